"""Joint image + mask transforms for segmentation, any channel count: a labeled crop
(:class:`SegTrainTransform`), pixel-aligned weak and strong views of an unlabeled crop
(:class:`SegWeakStrongTransform`) and whole images (:class:`SegEvalTransform`). The strong
photometry is UniMatch's (Yang et al., CVPR 2023, https://github.com/LiheYoung/UniMatch,
``dataset/semi.py``; departures: docs/segmentation.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import torch

from ssl_core import augment as aug

IGNORE_INDEX = 255


def _offsets(rng: random.Random, length: int, size: int) -> tuple[int, int, int]:
    """``(start, extent, pad before)`` of a random ``size`` crop of ``length`` px."""
    if length >= size:
        return rng.randint(0, length - size), size, 0
    return 0, length, rng.randint(0, size - length)


def draw_geometry(
    rng: random.Random,
    height: int,
    width: int,
    size: int,
    scale: tuple[float, float] = (1.0, 1.0),
    hflip_prob: float = 0.5,
    vflip_prob: float = 0.5,
    rotate90_prob: float = 0.5,
) -> Callable[[np.ndarray, int, int], np.ndarray]:
    """A random rescale, ``size`` px crop (padded) and orientation of an image of ``height`` x
    ``width`` px: ``apply(array, fill on padding, interpolation)`` -> ``(size, size, ...)``."""
    factor = 1.0
    if tuple(scale) != (1.0, 1.0):
        factor = rng.uniform(*scale)
        height, width = int(height * factor), int(width * factor)
    y, h, top = _offsets(rng, height, size)
    x, w, left = _offsets(rng, width, size)
    flips = aug.random_orientation(rng, hflip_prob, vflip_prob, rotate90_prob)

    def apply(array: np.ndarray, fill: int, interpolation: int) -> np.ndarray:
        if factor != 1.0:
            rows, cols = array.shape[:2]
            array = aug.resize(array, int(cols * factor), int(rows * factor), interpolation)
        crop = array[y : y + h, x : x + w]
        if (h, w) != (size, size):
            out = np.full((size, size, *array.shape[2:]), fill, array.dtype)
            out[top : top + h, left : left + w] = crop
            crop = out
        return aug.orient(crop, *flips)  # reads a crop in place

    return apply


class SegTrainTransform:
    """A labeled training sample: random crop, flips, rot90 of image and mask together.

    Args:
        size: Side of the crop; smaller images are padded (image 0, mask ``ignore_index``).
        channels: Channels of the images.
        scale: Random rescale range before the crop (``(1, 1)``: none).
        hflip_prob: Probability of a horizontal flip.
        vflip_prob: Probability of a vertical flip.
        rotate90_prob: Probability of a rotation by a random multiple of 90 degrees.
        photometric_prob: Probability of mild brightness and contrast (``[0.8, 1.2]``).
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
        self.geometry = (size, tuple(scale), hflip_prob, vflip_prob, rotate90_prob)
        self.photometric_prob = photometric_prob
        self.ignore_index = ignore_index
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        self.rng.seed(seed)

    def crop(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image and mask through one random geometry (padding: 0 and ``ignore_index``)."""
        image = aug.check_image(image, self.channels)
        apply = draw_geometry(self.rng, *image.shape[:2], *self.geometry)
        return apply(image, 0, cv2.INTER_LINEAR), apply(mask, self.ignore_index, cv2.INTER_NEAREST)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> dict[str, torch.Tensor]:
        image, mask = self.crop(image, mask)
        if self.photometric_prob > 0 and self.rng.random() < self.photometric_prob:
            image = aug.color_jitter(image, self.rng, 0.2, 0.2, 0.0, 0.0)
        return {
            "image": aug.to_chw(image, self.channels),
            "mask": torch.from_numpy(mask.astype(np.int64)),
        }


class SegWeakStrongTransform(SegTrainTransform):
    """An unlabeled sample: a weak and ``strong_views`` pixel-aligned strong views, ``ignore``.

    Args:
        size: Side of the crop; smaller images are padded (``ignore`` = 255 there).
        channels: Channels of the images.
        strong_views: Number of strong views (UniMatch: 2, FixMatch and Mean Teacher: 1).
        scale: Random rescale range before the crop (UniMatch: ``(0.5, 2.0)``).
        hflip_prob, vflip_prob, rotate90_prob: Probabilities of flips and turns.
        cj_prob, cj_strength, gray_prob, blur_prob, blur_sigma: :class:`aug.Photometric`.
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
        super().__init__(size, channels, scale, hflip_prob, vflip_prob, rotate90_prob)
        self.strong_views = strong_views
        jitter, hue = 0.5 * cj_strength, min(0.25 * cj_strength, 0.5)
        self.strong = aug.Photometric(cj_prob, jitter, hue, gray_prob, blur_prob, blur_sigma)

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None) -> dict[str, Any]:
        weak, ignore = self.crop(image, np.zeros(image.shape[:2], np.uint8))  # 255: padding
        views = [aug.to_chw(weak, self.channels)]
        source = self._plane(weak, views[0])
        for _ in range(self.strong_views):
            views.append(aug.to_chw(self.strong(source, self.rng), self.channels))
        return {"views": views, "ignore": torch.from_numpy(ignore)}

    def _plane(self, weak: np.ndarray, tensor: torch.Tensor) -> np.ndarray:
        """The weak crop as one ``(H, W)`` plane when its channels are all equal (exact: the
        photometric ops act on equal channels alike), else as it is."""
        if self.channels == 1:
            return weak[:, :, 0]
        if self.channels == 3:
            planes = tensor.numpy()  # read only: photometric ops return new arrays
            if all(cv2.norm(planes[0], p, cv2.NORM_INF) == 0 for p in planes[1:]):
                return planes[0]
        return weak


class SegEvalTransform:
    """A whole image ``uint8`` ``(C, H, W)`` and its mask, if any, ``int64`` ``(H, W)``."""

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"image": aug.to_tensor(image)}
        if mask is not None:
            out["mask"] = torch.from_numpy(mask.astype(np.int64))
        return out
