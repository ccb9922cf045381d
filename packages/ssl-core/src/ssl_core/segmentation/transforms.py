"""Joint image + mask transforms for segmentation, any channel count.

Three transforms, one per kind of sample; each maps a ``uint8`` ``(H, W, C)`` image (and
its ``(H, W)`` mask of class ids, where there is one) to the fields of a sample:

- :class:`SegTrainTransform` (labeled images): a random crop of ``size`` px (images
  smaller than that are padded: image with 0, mask with ``ignore_index``), flips and
  90-degree rotations, optionally mild brightness/contrast. Fields ``image`` ``uint8``
  ``(C, size, size)`` and ``mask`` ``int64`` ``(size, size)``.
- :class:`SegWeakStrongTransform` (unlabeled images, FixMatch / UniMatch): the weak
  geometry is drawn once per image, then each of ``strong_views`` strong views gets its
  own photometric parameters, on the image only, so every view stays pixel-aligned with
  the weak view (and with the pseudo-label predicted from it). Fields ``views``
  ``[weak, strong_1, ...]`` and ``ignore`` ``uint8`` ``(size, size)``: 255 on padding,
  else 0.
- :class:`SegEvalTransform` (validation, test, prediction): the whole image as it is
  (no resize, no crop: whole-image inference pads to the network's stride itself).

The strong photometric recipe is UniMatch's (Yang et al., CVPR 2023,
https://github.com/LiheYoung/UniMatch, ``dataset/semi.py``): colour jitter
(0.5, 0.5, 0.5, 0.25) with p=0.8, greyscale p=0.2, Gaussian blur sigma U(0.1, 2) with
p=0.5. Departures: colour jitter needs 1 or 3 channels (hue and saturation mean nothing
otherwise), so other channel counts get brightness/contrast (0.4, relative to the
image's mean) + gamma with p=0.8;
greyscale only for RGB; UniMatch's CutMix box is made on the batch by the method, not
here. The weak geometry is a random crop with flips and rot90 (orientation carries no
meaning in microscopy); UniMatch's random rescale (0.5-2) is available as
``scale=(0.5, 2.0)`` and off by default.

Implementation: plain OpenCV/NumPy on the crop, with the parameter ranges and the
arithmetic of albumentations 2.0.8's ``PadIfNeeded(position="random")``,
``RandomCrop``, ``HorizontalFlip``, ``VerticalFlip``, ``RandomRotate90``,
``RandomScale``, ``ColorJitter``, ``ToGray``, ``GaussianBlur(blur_limit=0)``,
``RandomBrightnessContrast`` and ``RandomGamma`` (the tests compare the photometric
ops with albumentations' own). Not albumentations itself: with two strong views its
pipelines took 3-4x the time of this code for the same pixels (256 px crops of
DSB2018, ``bench/segment_augment.py``): per-call machinery (``Compose``, parameter
checks, reseeding every transform of every pipeline per sample, a contiguous copy
after every op) and ``np.rot90`` made contiguous, a strided copy 20x slower than
``cv2.transpose`` / ``cv2.flip``. Two more savings, both exact: a crop whose channels
are all equal (grey images stored as RGB: 557 of DSB2018's 664) is jittered and
blurred as one plane, since saturation, hue and greyscale leave such a crop as it is;
and the photometric ops work on the ``size`` px crop, never on the whole image.

Seeds: ``set_random_seed(seed)`` seeds the transform's one random stream (geometry,
then each strong view in turn), so the datasets of :mod:`ssl_core.segmentation.data` can
give every sample its own seed and every dataloader worker draws its own augmentations
(a transform built in the main process would otherwise draw the same parameters in
every worker, as albumentations 2.0.8's pipelines do).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from ssl_core.transforms import to_tensor

IGNORE_INDEX = 255
_RAMP = np.arange(256, dtype=np.float32)  # the uint8 levels, for lookup tables
_CV_MAX_CHANNELS = 4  # OpenCV's filters, resize and transpose: at most 4 channels of uint8


def _orientations() -> dict[tuple[bool, bool, int], tuple[bool, int | None]]:
    """``(hflip, vflip, turns)`` -> ``(transpose, cv2.flip code or None)``: each of the
    16 draws as at most two OpenCV passes (found by trying them on a 2 x 3 array).
    OpenCV rather than NumPy: a flipped or turned view made contiguous is a strided
    copy, 20x slower than ``cv2.flip`` / ``cv2.transpose``."""
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    candidates = {
        (t, code): cv2.flip(b, code) if code is not None else b
        for t in (False, True)
        for b in [a.T.copy() if t else a]
        for code in (None, 0, 1, -1)
    }
    table = {}
    for hflip in (False, True):
        for vflip in (False, True):
            for turns in range(4):
                b = a[:, ::-1] if hflip else a
                b = np.rot90(b[::-1] if vflip else b, turns)
                table[hflip, vflip, turns] = next(
                    key for key, c in candidates.items() if np.array_equal(b, c)
                )
    return table


_ORIENT = _orientations()


# ------------------------------------------------------------------ array helpers
def _lut(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[x]`` for a ``uint8`` image of any channel count, in one OpenCV pass (the
    channels folded into the rows)."""
    return cv2.LUT(x.reshape(x.shape[0], -1), table).reshape(x.shape)


def _table(values: np.ndarray) -> np.ndarray:
    """A ``uint8`` lookup table from float levels: clipped and truncated (albumentations')."""
    return np.minimum(np.maximum(values, 0), 255).astype(np.uint8)  # np.clip: 2x slower


def _by_4_channels(fn, x: np.ndarray) -> np.ndarray:
    """``fn`` (an OpenCV op) on an image of any channel count: at most 4 channels a call;
    the channel axis is kept (OpenCV drops a single channel's axis)."""
    if x.ndim == 2 or x.shape[2] <= _CV_MAX_CHANNELS:
        out = fn(x)
        return out.reshape(*out.shape[:2], *x.shape[2:])
    parts = [fn(np.ascontiguousarray(x[:, :, i : i + 4])) for i in range(0, x.shape[2], 4)]
    return np.concatenate([p.reshape(*p.shape[:2], -1) for p in parts], axis=2)


def _mean(x: np.ndarray) -> float:
    """Mean of all values of a ``uint8`` array: ``np.mean``'s value (an exact sum over
    the same count), many times faster."""
    return cv2.sumElems(x.reshape(x.shape[0], -1))[0] / x.size


def chw_tensor(x: np.ndarray, channels: int) -> torch.Tensor:
    """A ``uint8`` ``(channels, H, W)`` tensor of an ``(H, W, C)`` image, or of the
    ``(H, W)`` plane of an image whose ``channels`` channels are all equal."""
    if x.ndim == 2:
        out = np.empty((channels, *x.shape), np.uint8)
        out[:] = x
        return torch.from_numpy(out)
    if not 1 < x.shape[2] <= _CV_MAX_CHANNELS:
        return to_tensor(x)
    out = np.empty((x.shape[2], *x.shape[:2]), np.uint8)
    planes = list(out)
    # cv2.split de-interleaves into ``out``: half the time of numpy's transposing copy
    if cv2.split(x, planes)[0] is not planes[0]:
        out[:] = x.transpose(2, 0, 1)  # OpenCV wrote elsewhere: copy ourselves
    return torch.from_numpy(out)


def mask_tensor(mask: np.ndarray) -> torch.Tensor:
    """``(H, W)`` class ids as an ``int64`` tensor."""
    return torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64, copy=False))


# ------------------------------------------------------------------ geometry
@dataclass(frozen=True)
class Geometry:
    """The weak geometry of one sample: rescale the image by ``scale``, take rows
    ``y:y+h`` and columns ``x:x+w``, place them at ``(top, left)`` of a ``size`` px
    square (the rest is padding), flip, then turn ``turns`` x 90 degrees
    counter-clockwise (as ``np.rot90``)."""

    size: int
    scale: float
    y: int
    x: int
    h: int
    w: int
    top: int
    left: int
    hflip: bool
    vflip: bool
    turns: int

    @property
    def padded(self) -> bool:
        return (self.h, self.w) != (self.size, self.size)

    def apply(self, array: np.ndarray, fill: int, interpolation: int) -> np.ndarray:
        """The ``(size, size, ...)`` output of an image or mask (``fill`` on padding)."""
        if self.scale != 1.0:
            height, width = array.shape[:2]
            new = (int(width * self.scale), int(height * self.scale))  # as RandomScale
            array = _by_4_channels(lambda a: cv2.resize(a, new, interpolation=interpolation), array)
        crop = array[self.y : self.y + self.h, self.x : self.x + self.w]
        if self.padded:
            out = np.full((self.size, self.size, *array.shape[2:]), fill, array.dtype)
            out[self.top : self.top + self.h, self.left : self.left + self.w] = crop
            return self.orient(out)
        return self.orient(crop)  # OpenCV reads the crop in place: one pass

    def padding(self) -> np.ndarray:
        """``uint8`` ``(size, size)``: 255 where the output is padding, else 0."""
        if not self.padded:
            return np.zeros((self.size, self.size), np.uint8)
        out = np.full((self.size, self.size), 255, np.uint8)
        out[self.top : self.top + self.h, self.left : self.left + self.w] = 0
        return self.orient(out)

    def orient(self, a: np.ndarray) -> np.ndarray:
        """Flips then rot90 of a square array (rows may be strided): a new array."""
        if a.dtype != np.uint8 or (a.ndim == 3 and a.shape[2] > _CV_MAX_CHANNELS):
            a = a[:, ::-1] if self.hflip else a
            a = a[::-1] if self.vflip else a
            return np.rot90(a, self.turns).copy()  # C order
        transpose, code = _ORIENT[self.hflip, self.vflip, self.turns]
        out = a
        if transpose:
            out = cv2.transpose(out)
        if code is not None:
            out = cv2.flip(out, code)
        if out is a:
            out = a.copy()
        return out.reshape(a.shape)  # square: the shape is kept (OpenCV drops a channel axis of 1)


def _offsets(rng: random.Random, length: int, size: int) -> tuple[int, int, int]:
    """``(start, extent, pad before)`` of a random ``size`` crop of ``length`` px, padded
    at a random position where ``length < size`` (as PadIfNeeded + RandomCrop)."""
    if length >= size:
        return rng.randint(0, length - size), size, 0
    return 0, length, rng.randint(0, size - length)


def geometry_args(
    size: int,
    scale: tuple[float, float],
    hflip_prob: float,
    vflip_prob: float,
    rotate90_prob: float,
) -> dict[str, Any]:
    """The keyword arguments of :func:`draw_geometry` a transform keeps."""
    return dict(
        size=size,
        scale=tuple(scale),
        hflip_prob=hflip_prob,
        vflip_prob=vflip_prob,
        rotate90_prob=rotate90_prob,
    )


def draw_geometry(
    rng: random.Random,
    height: int,
    width: int,
    size: int,
    scale: tuple[float, float] = (1.0, 1.0),
    hflip_prob: float = 0.5,
    vflip_prob: float = 0.5,
    rotate90_prob: float = 0.5,
) -> Geometry:
    """A random :class:`Geometry` for an image of ``height`` x ``width`` px."""
    factor = 1.0
    if tuple(scale) != (1.0, 1.0):
        factor = rng.uniform(*scale)
        height, width = int(height * factor), int(width * factor)
    y, h, top = _offsets(rng, height, size)
    x, w, left = _offsets(rng, width, size)
    hflip = hflip_prob > 0 and rng.random() < hflip_prob
    vflip = vflip_prob > 0 and rng.random() < vflip_prob
    turns = rng.randint(0, 3) if rotate90_prob > 0 and rng.random() < rotate90_prob else 0
    return Geometry(size, factor, y, x, h, w, top, left, hflip, vflip, turns)


# ------------------------------------------------------------------ photometric ops
# uint8 in, uint8 out, with albumentations 2.0.8's arithmetic (float32 tables, truncated).
# ``x`` is an (H, W, C) image or the (H, W) plane of an image whose channels are equal.
def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    """``x * factor`` (torchvision's brightness)."""
    return x if factor == 1 else _lut(x, _table(_RAMP * np.float32(factor)))


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean grey level (torchvision's contrast)."""
    if factor == 1:
        return x
    grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) if x.ndim == 3 and x.shape[2] == 3 else x
    return _lut(x, _table(_RAMP * factor + _mean(grey) * (1 - factor)))


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the grey image (torchvision's saturation; nothing to do on grey)."""
    if factor == 1 or x.ndim == 2 or x.shape[2] != 3:
        return x
    grey = cv2.cvtColor(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(x, factor, grey, 1 - factor, 0)


def adjust_hue(x: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue by ``factor`` of a turn (OpenCV's HSV; nothing to do on grey)."""
    if factor == 0 or x.ndim == 2 or x.shape[2] != 3:
        return x
    table = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    table[:, 0] = np.mod(np.arange(256, dtype=np.int16) + 180 * factor, 180).astype(np.uint8)
    hsv = cv2.LUT(cv2.cvtColor(x, cv2.COLOR_RGB2HSV), table[None])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def brightness_contrast_gamma(
    x: np.ndarray, alpha: float, beta: float, gamma: float | None = None
) -> np.ndarray:
    """``x * alpha + beta`` (RandomBrightnessContrast), then ``255 (x / 255) ** gamma``
    (RandomGamma) where ``gamma`` is given: one table, so one pass, any channel count."""
    table = _table(_RAMP * alpha + beta)
    if gamma is not None:
        table = _table((np.arange(256) / 255) ** gamma * 255)[table]
    return _lut(x, table)


def to_grey(x: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` grey plane of an RGB image (0.299 R + 0.587 G + 0.114 B)."""
    return x if x.ndim == 2 else cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with PIL's kernel size ``int(3.5 sigma) * 2 + 1``, reflected border."""
    radius = int(sigma * 3.5)
    if radius == 0:
        return x
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    return _by_4_channels(lambda a: cv2.sepFilter2D(a, -1, kernel, kernel), x)


_JITTER = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)


class StrongPhotometric:
    """UniMatch's strong photometric view of a crop (see the module docstring), drawn
    from the caller's random stream.

    Args:
        channels: Channels of the images (colour jitter for 1 or 3, else
            brightness/contrast + gamma; greyscale for 3 only).
        cj_prob: Probability of colour jitter (or brightness/contrast/gamma).
        cj_strength: Scale of the jitter ranges.
        gray_prob: Probability of greyscale (RGB only).
        blur_prob: Probability of Gaussian blur.
        blur_sigma: Range of the blur's sigma in px.
    """

    def __init__(
        self,
        channels: int,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        gray_prob: float = 0.2,
        blur_prob: float = 0.5,
        blur_sigma: tuple[float, float] = (0.1, 2.0),
    ) -> None:
        s = cj_strength
        self.cj_prob = cj_prob
        self.jitter = channels in (1, 3)
        # ColorJitter(0.5 s, 0.5 s, 0.5 s, min(0.25 s, 0.5)): factors around 1, hue around 0
        self.factor_range = (max(0.0, 1 - 0.5 * s), 1 + 0.5 * s)
        self.hue = min(0.25 * s, 0.5)
        # RandomBrightnessContrast(0.4 s, 0.4 s, brightness_by_max=False): relative to the
        # image's mean, not to 255, so a dark microscopy image is not wiped out (as
        # torchvision's multiplicative brightness would)
        self.bc_limit = 0.4 * s
        self.gray_prob = gray_prob if channels == 3 else 0.0
        self.blur_prob = blur_prob
        self.blur_sigma = tuple(blur_sigma)

    def __call__(self, x: np.ndarray, rng: random.Random) -> np.ndarray:
        """A strong view of ``x``: ``(H, W, C)``, or the ``(H, W)`` plane of an image
        whose channels are equal (the view is then a plane too, or an RGB image)."""
        if self.cj_prob > 0 and rng.random() < self.cj_prob:
            x = self._jitter(x, rng) if self.jitter else self._brightness_contrast_gamma(x, rng)
        if self.gray_prob > 0 and rng.random() < self.gray_prob:
            x = to_grey(x)
        if self.blur_prob > 0 and rng.random() < self.blur_prob:
            x = gaussian_blur(x, rng.uniform(*self.blur_sigma))
        return x

    def _jitter(self, x: np.ndarray, rng: random.Random) -> np.ndarray:
        """ColorJitter: brightness, contrast, saturation, hue in a random order."""
        factors = [rng.uniform(*self.factor_range) for _ in range(3)]
        factors.append(rng.uniform(-self.hue, self.hue))
        order = [0, 1, 2, 3]
        rng.shuffle(order)
        for i in order:
            x = _JITTER[i](x, factors[i])
        return x

    def _brightness_contrast_gamma(self, x: np.ndarray, rng: random.Random) -> np.ndarray:
        """RandomBrightnessContrast (p=1) then RandomGamma(70-150, p=0.5)."""
        alpha = 1.0 + rng.uniform(-self.bc_limit, self.bc_limit)
        beta = rng.uniform(-self.bc_limit, self.bc_limit) * _mean(x)
        gamma = rng.uniform(70, 150) / 100 if rng.random() < 0.5 else None
        return brightness_contrast_gamma(x, alpha, beta, gamma)


# ------------------------------------------------------------------ the transforms
def _check(image: np.ndarray, channels: int) -> np.ndarray:
    if image.ndim == 2:
        image = image[:, :, None]
    if image.dtype != np.uint8 or image.shape[2] != channels:
        raise ValueError(
            f"Expected a uint8 (H, W, {channels}) image, got {image.dtype} {image.shape}"
        )
    return image


class SegTrainTransform:
    """A labeled training sample: random crop, flips, rot90 of image and mask together.

    Args:
        size: Side of the crop; smaller images are padded (image 0, mask ``ignore_index``).
        channels: Channels of the images.
        scale: Random rescale range before the crop (``(1, 1)``: none).
        hflip_prob: Probability of a horizontal flip.
        vflip_prob: Probability of a vertical flip.
        rotate90_prob: Probability of a rotation by a random multiple of 90 degrees.
        photometric_prob: Probability of mild brightness/contrast (0.2, as
            ``RandomBrightnessContrast(0.2, 0.2)``) on the image.
        ignore_index: Mask value of padding (ignored by losses and metrics).
    """

    def __init__(
        self,
        size: int = 256,
        channels: int = 3,
        scale: tuple[float, float] = (1.0, 1.0),
        hflip_prob: float = 0.5,
        vflip_prob: float = 0.5,
        rotate90_prob: float = 0.5,
        photometric_prob: float = 0.0,
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        self.channels = channels
        self.geometry = geometry_args(size, scale, hflip_prob, vflip_prob, rotate90_prob)
        self.photometric_prob = photometric_prob
        self.ignore_index = ignore_index
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        self.rng = random.Random(seed)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> dict[str, torch.Tensor]:
        image = _check(image, self.channels)
        geometry = draw_geometry(self.rng, *image.shape[:2], **self.geometry)
        image = geometry.apply(image, 0, cv2.INTER_LINEAR)
        mask = geometry.apply(mask, self.ignore_index, cv2.INTER_NEAREST)
        if self.photometric_prob > 0 and self.rng.random() < self.photometric_prob:
            # RandomBrightnessContrast(0.2, 0.2): brightness relative to 255
            alpha = 1.0 + self.rng.uniform(-0.2, 0.2)
            image = brightness_contrast_gamma(image, alpha, self.rng.uniform(-0.2, 0.2) * 255)
        return {"image": chw_tensor(image, self.channels), "mask": mask_tensor(mask)}


class SegWeakStrongTransform:
    """An unlabeled training sample: one weak view and ``strong_views`` strong views,
    pixel-aligned (geometry drawn once), plus the ``ignore`` mask of padding.

    Args:
        size: Side of the crop; smaller images are padded (``ignore`` = 255 there).
        channels: Channels of the images.
        strong_views: Number of strong views (UniMatch: 2, FixMatch: 1, Mean Teacher: 0
            or 1), each with its own photometric parameters.
        scale: Random rescale range before the crop (UniMatch: ``(0.5, 2.0)``).
        hflip_prob: Probability of a horizontal flip (weak geometry).
        vflip_prob: Probability of a vertical flip (weak geometry).
        rotate90_prob: Probability of a random rot90 (weak geometry).
        cj_prob: Probability of colour jitter (or brightness/contrast/gamma).
        cj_strength: Scale of the jitter ranges.
        gray_prob: Probability of greyscale (RGB only).
        blur_prob: Probability of Gaussian blur.
        blur_sigma: Range of the blur's sigma in px.
    """

    def __init__(
        self,
        size: int = 256,
        channels: int = 3,
        strong_views: int = 2,
        scale: tuple[float, float] = (1.0, 1.0),
        hflip_prob: float = 0.5,
        vflip_prob: float = 0.5,
        rotate90_prob: float = 0.5,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        gray_prob: float = 0.2,
        blur_prob: float = 0.5,
        blur_sigma: tuple[float, float] = (0.1, 2.0),
    ) -> None:
        if strong_views < 0:
            raise ValueError(f"strong_views must be >= 0, not {strong_views}")
        self.channels = channels
        self.strong_views = strong_views
        self.geometry = geometry_args(size, scale, hflip_prob, vflip_prob, rotate90_prob)
        self.strong = StrongPhotometric(
            channels, cj_prob, cj_strength, gray_prob, blur_prob, blur_sigma
        )
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        """Seed the geometry and the strong views (one stream, drawn in that order)."""
        self.rng = random.Random(seed)

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None) -> dict[str, Any]:
        # The mask of an unlabeled image is never read: padding is known from the geometry.
        image = _check(image, self.channels)
        geometry = draw_geometry(self.rng, *image.shape[:2], **self.geometry)
        weak = geometry.apply(image, 0, cv2.INTER_LINEAR)
        views = [chw_tensor(weak, self.channels)]
        source = self._plane(weak, views[0])
        views += [
            chw_tensor(self.strong(source, self.rng), self.channels)
            for _ in range(self.strong_views)
        ]
        return {"views": views, "ignore": torch.from_numpy(geometry.padding())}

    def _plane(self, weak: np.ndarray, tensor: torch.Tensor) -> np.ndarray:
        """The weak crop as one ``(H, W)`` plane when its channels are all equal (a grey
        image, or any 1-channel image), else as it is. Exact: saturation, hue and
        greyscale leave an image of equal channels unchanged, and brightness, contrast
        and blur act on each channel alike (contrast's grey mean is the plane's mean)."""
        if self.channels == 1:
            return weak[:, :, 0]
        if self.channels == 3:
            planes = tensor.numpy()  # read only: photometric ops return new arrays
            if all(cv2.norm(planes[0], p, cv2.NORM_INF) == 0 for p in planes[1:]):
                return planes[0]
        return weak


class SegEvalTransform:
    """A whole image (and its mask, if any) as tensors: no resize, no crop.

    ``image`` ``uint8`` ``(C, H, W)``; ``mask`` ``int64`` ``(H, W)`` when a mask is given.
    """

    def set_random_seed(self, seed: int | None) -> None:  # deterministic: nothing to seed
        pass

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"image": to_tensor(image)}
        if mask is not None:
            out["mask"] = mask_tensor(mask)
        return out
