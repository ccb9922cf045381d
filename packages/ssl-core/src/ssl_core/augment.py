"""Augmentation operations on ``uint8`` images of any channel count, for both tasks'
transforms and the shift corruptions. An image is ``(H, W, C)`` with any ``C``, or an
``(H, W)`` plane standing for equal channels; every operation returns ``uint8`` (the input
itself where it has nothing to do; inputs are never written), in one or two OpenCV passes
(conventions: docs/history.md, "One module of augmentation operations (issue 20)").
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
import torch

cv2.setNumThreads(0)  # one thread per dataloader worker; workers give the parallelism

_LUMA = np.array([0.299, 0.587, 0.114])
_GREY_ROWS = np.tile(_LUMA.astype(np.float32), (3, 1))  # each row: the grey level
_COLOUR_ROWS = np.eye(3, dtype=np.float32) - _GREY_ROWS


def check_image(image: np.ndarray, channels: int) -> np.ndarray:
    """``image`` as ``(H, W, channels)`` ``uint8`` (a 2-D array gets its channel axis)."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.dtype != np.uint8 or image.shape[2] != channels:
        raise ValueError(
            f"Expected a uint8 (H, W, {channels}) image, got {image.dtype} {image.shape}"
        )
    return image


def _keep_shape(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV drops a channel axis of 1: put it back."""
    return out.reshape(like.shape) if out.shape != like.shape else out


def is_rgb(x: np.ndarray) -> bool:
    return x.ndim == 3 and x.shape[2] == 3


def mean_grey(x: np.ndarray) -> float:
    """Mean grey level: of the luma for RGB, of all values otherwise."""
    if is_rgb(x):
        r, g, b, _ = cv2.mean(x)
        return 0.299 * r + 0.587 * g + 0.114 * b
    return cv2.sumElems(x.reshape(x.shape[0], -1))[0] / x.size  # any channel count


def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    """``x * factor`` (``factor >= 0``), any channel count."""
    return _keep_shape(cv2.convertScaleAbs(x, alpha=factor), x)


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean grey level, ``m + factor (x - m)``, any channel count."""
    return _keep_shape(cv2.addWeighted(x, factor, x, 0.0, (1.0 - factor) * mean_grey(x)), x)


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the grey image, as one 3x3 colour matrix. RGB only (others unchanged)."""
    return cv2.transform(x, _GREY_ROWS + np.float32(factor) * _COLOUR_ROWS) if is_rgb(x) else x


@functools.lru_cache(maxsize=8)
def _hue_unit(shape: tuple[int, ...]) -> np.ndarray:
    unit = np.zeros(shape, np.uint8)
    unit[:, :, 0] = 1
    return unit


def adjust_hue(x: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue by ``factor`` turns (``[-0.5, 0.5]``) in 256 levels. RGB only."""
    shift = round(factor * 256) % 256
    if not shift or not is_rgb(x):
        return x
    hsv = cv2.cvtColor(x, cv2.COLOR_RGB2HSV_FULL)
    # uint8 addition wraps modulo 256 (a whole-image add: 6x faster than on hsv[..., 0])
    np.add(hsv, np.multiply(_hue_unit(hsv.shape), np.uint8(shift)), out=hsv)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


def to_grey(x: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` grey plane of an RGB image; other images unchanged."""
    return cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) if is_rgb(x) else x


_JITTER = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
_ORDERS = list(itertools.permutations(range(4)))


def color_jitter(
    x: np.ndarray,
    rng: random.Random,
    brightness: float,
    contrast: float,
    saturation: float,
    hue: float,
) -> np.ndarray:
    """torchvision's ``ColorJitter``: factors uniform in ``[1 - s, 1 + s]`` (hue: shift in
    ``[-hue, hue]`` turns), in a random order."""
    factors = [rng.uniform(max(0.0, 1 - s), 1 + s) for s in (brightness, contrast, saturation)]
    factors.append(rng.uniform(-hue, hue))
    for i in _ORDERS[int(rng.random() * 24)]:  # a random order (rng.shuffle: 4x slower)
        x = _JITTER[i](x, factors[i])
    return x


def gaussian_blur(x: np.ndarray, sigma: float, max_ksize: int | None = None) -> np.ndarray:
    """Gaussian blur, kernel radius ``int(3.5 sigma)`` (at most ``max_ksize // 2``),
    reflected border, any channel count."""
    radius = int(sigma * 3.5)
    if max_ksize is not None:
        radius = min(radius, max_ksize // 2)
    if radius == 0:
        return x
    kernel = cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_64F)
    return _keep_shape(cv2.sepFilter2D(x, -1, kernel, kernel), x)


def gaussian_noise(x: np.ndarray, std: float, rng: random.Random) -> np.ndarray:
    """Additive Gaussian noise of ``std`` x 255 levels, independent per value."""
    noise = np.random.default_rng(rng.getrandbits(64)).normal(0.0, std * 255.0, x.shape)
    return np.clip(np.rint(x + noise), 0, 255).astype(np.uint8)


#: cv2.flip's code of (flip the rows, flip the columns)
_FLIP_CODES = {(False, False): None, (True, False): 0, (False, True): 1, (True, True): -1}


def orient(x: np.ndarray, hflip: bool, vflip: bool, turns: int) -> np.ndarray:
    """Flips then ``turns`` x 90 degrees of a square array, as a new C-ordered array
    (OpenCV where it can: 20x faster than numpy's strided copy)."""
    if x.dtype != np.uint8 or (x.ndim == 3 and x.shape[2] > 4):  # cv2.transpose: <= 4
        x = x[:, ::-1] if hflip else x
        return np.rot90(x[::-1] if vflip else x, turns).copy()
    transpose, rows, cols = False, vflip, hflip  # as flips (rows, cols) of x, transposed or not
    for _ in range(turns):  # a quarter turn: transpose, then flip the rows
        transpose, rows, cols = not transpose, not cols, rows
    code = _FLIP_CODES[rows, cols]
    out = cv2.transpose(x) if transpose else x
    out = cv2.flip(out, code) if code is not None else out
    return _keep_shape(x.copy() if out is x else out, x)


def random_orientation(
    rng: random.Random, hflip_prob: float, vflip_prob: float, rotate90_prob: float
) -> tuple[bool, bool, int]:
    """``(hflip, vflip, turns)`` drawn with these probabilities (turns uniform in 0-3)."""
    hflip = hflip_prob > 0 and rng.random() < hflip_prob
    vflip = vflip_prob > 0 and rng.random() < vflip_prob
    turns = rng.randint(0, 3) if rotate90_prob > 0 and rng.random() < rotate90_prob else 0
    return hflip, vflip, turns


def resized_crop_box(
    rng: random.Random,
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[int, int, int, int]:
    """``(top, left, h, w)`` of torchvision's ``RandomResizedCrop``: area fraction uniform
    in ``scale``, log-uniform aspect ``ratio``, 10 tries, then a center crop."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    if width / height < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif width / height > ratio[1]:
        h, w = height, int(round(height * ratio[1]))
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


def resize(x: np.ndarray, width: int, height: int, interpolation: int) -> np.ndarray:
    """``cv2.resize`` keeping the channel axis (any channel count)."""
    out = cv2.resize(x, (width, height), interpolation=interpolation)
    return out.reshape(height, width, *x.shape[2:])


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``uint8`` ``(H, W, C)`` (or ``(H, W)``) to a contiguous ``uint8`` ``(C, H, W)``."""
    return to_chw(image, 1 if image.ndim == 2 else image.shape[2])


def to_chw(x: np.ndarray, channels: int) -> torch.Tensor:
    """A ``uint8`` ``(channels, H, W)`` tensor of an ``(H, W, C)`` image or of a plane."""
    if x.ndim == 2:
        out = np.empty((channels, *x.shape), np.uint8)
        out[:] = x
        return torch.from_numpy(out)
    if not 1 < x.shape[2] <= 4:
        return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
    out = np.empty((x.shape[2], *x.shape[:2]), np.uint8)
    planes = list(out)
    # cv2.split de-interleaves into ``out``: a quarter of numpy's transposing copy
    if cv2.split(x, planes)[0] is not planes[0]:
        out[:] = x.transpose(2, 0, 1)  # OpenCV wrote elsewhere: copy ourselves
    return torch.from_numpy(out)


@dataclass
class Photometric:
    """Colour jitter (brightness, contrast, saturation ``cj``; ``hue``), greyscale and
    Gaussian blur, each with its probability, drawn from the caller's random stream in that
    order: SimCLR's and UniMatch's photometric part."""

    cj_prob: float
    cj: float
    hue: float
    gray_prob: float
    blur_prob: float
    blur_sigma: tuple[float, float]
    blur_kernel: int | None = None

    def __call__(self, x: np.ndarray, rng: random.Random) -> np.ndarray:
        if self.cj_prob > 0 and rng.random() < self.cj_prob:
            x = color_jitter(x, rng, self.cj, self.cj, self.cj, self.hue)
        if self.gray_prob > 0 and rng.random() < self.gray_prob:
            x = to_grey(x)  # a plane (RGB only): a blur then does a third of the work
        if self.blur_prob > 0 and rng.random() < self.blur_prob:
            x = gaussian_blur(x, rng.uniform(*self.blur_sigma), self.blur_kernel)
        return x
