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
p=0.5, all :mod:`ssl_core.augment`'s ops (the classification views' conventions).
Saturation, hue and greyscale need RGB: other channel counts get brightness and
contrast. UniMatch's CutMix box is made on the batch by the method, not here. The weak
geometry is a random crop with flips and rot90 (orientation carries no meaning in
microscopy); UniMatch's random rescale (0.5-2) is available as ``scale=(0.5, 2.0)`` and
off by default. The photometric ops work on the ``size`` px crop, never on the whole
image, and a crop whose channels are all equal (grey images stored as RGB: 557 of
DSB2018's 664) as one plane: exact, since saturation, hue and greyscale leave such a
crop as it is.

Seeds: ``set_random_seed(seed)`` seeds the transform's one random stream (geometry,
then each strong view in turn), so the datasets of :mod:`ssl_core.segmentation.data` can
give every sample its own seed and every dataloader worker draws its own augmentations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from ssl_core import augment as aug

IGNORE_INDEX = 255


def mask_tensor(mask: np.ndarray) -> torch.Tensor:
    """``(H, W)`` class ids as an ``int64`` tensor."""
    return torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64, copy=False))


@dataclass(frozen=True)
class Geometry:
    """The weak geometry of one sample: rescale the image by ``scale``, take rows
    ``y:y+h`` and columns ``x:x+w``, place them at ``(top, left)`` of a ``size`` px
    square (the rest is padding), then :func:`ssl_core.augment.orient` it."""

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
            (height, width), s = array.shape[:2], self.scale
            array = aug.resize(array, int(width * s), int(height * s), interpolation)
        crop = array[self.y : self.y + self.h, self.x : self.x + self.w]
        if self.padded:
            out = np.full((self.size, self.size, *array.shape[2:]), fill, array.dtype)
            out[self.top : self.top + self.h, self.left : self.left + self.w] = crop
            crop = out
        return aug.orient(crop, self.hflip, self.vflip, self.turns)  # reads a crop in place

    def padding(self) -> np.ndarray:
        """``uint8`` ``(size, size)``: 255 where the output is padding, else 0."""
        out = np.full((self.size, self.size), 255 * self.padded, np.uint8)
        out[self.top : self.top + self.h, self.left : self.left + self.w] = 0
        return aug.orient(out, self.hflip, self.vflip, self.turns) if self.padded else out


def _offsets(rng: random.Random, length: int, size: int) -> tuple[int, int, int]:
    """``(start, extent, pad before)`` of a random ``size`` crop of ``length`` px, padded
    at a random position where ``length < size`` (as PadIfNeeded + RandomCrop)."""
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
) -> Geometry:
    """A random :class:`Geometry` for an image of ``height`` x ``width`` px."""
    factor = 1.0
    if tuple(scale) != (1.0, 1.0):
        factor = rng.uniform(*scale)
        height, width = int(height * factor), int(width * factor)
    y, h, top = _offsets(rng, height, size)
    x, w, left = _offsets(rng, width, size)
    flips = aug.random_orientation(rng, hflip_prob, vflip_prob, rotate90_prob)
    return Geometry(size, factor, y, x, h, w, top, left, *flips)


class SegTrainTransform:
    """A labeled training sample: random crop, flips, rot90 of image and mask together.

    Args:
        size: Side of the crop; smaller images are padded (image 0, mask ``ignore_index``).
        channels: Channels of the images.
        scale: Random rescale range before the crop (``(1, 1)``: none).
        hflip_prob: Probability of a horizontal flip.
        vflip_prob: Probability of a vertical flip.
        rotate90_prob: Probability of a rotation by a random multiple of 90 degrees.
        photometric_prob: Probability of mild brightness and contrast (factors in
            ``[0.8, 1.2]``, random order) on the image.
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
        self.geometry = dict(
            size=size, scale=tuple(scale), hflip_prob=hflip_prob, vflip_prob=vflip_prob,
            rotate90_prob=rotate90_prob,
        )  # fmt: skip
        self.photometric_prob = photometric_prob
        self.ignore_index = ignore_index
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        self.rng.seed(seed)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> dict[str, torch.Tensor]:
        image = aug.check_image(image, self.channels)
        geometry = draw_geometry(self.rng, *image.shape[:2], **self.geometry)
        image = geometry.apply(image, 0, cv2.INTER_LINEAR)
        mask = geometry.apply(mask, self.ignore_index, cv2.INTER_NEAREST)
        if self.photometric_prob > 0 and self.rng.random() < self.photometric_prob:
            image = aug.color_jitter(image, self.rng, 0.2, 0.2, 0.0, 0.0)
        return {"image": aug.to_chw(image, self.channels), "mask": mask_tensor(mask)}


class SegWeakStrongTransform(SegTrainTransform):
    """An unlabeled training sample: one weak view and ``strong_views`` strong views,
    pixel-aligned (geometry drawn once), plus the ``ignore`` mask of padding.

    Args:
        size: Side of the crop; smaller images are padded (``ignore`` = 255 there).
        channels: Channels of the images.
        strong_views: Number of strong views (UniMatch: 2, FixMatch: 1, Mean Teacher: 0
            or 1), each with its own photometric parameters.
        scale: Random rescale range before the crop (UniMatch: ``(0.5, 2.0)``).
        hflip_prob, vflip_prob, rotate90_prob: Probabilities of the weak geometry's flips
            and turns.
        cj_prob, cj_strength, gray_prob, blur_prob, blur_sigma: The strong views'
            photometry (:class:`ssl_core.augment.Photometric`; jitter 0.5, 0.5, 0.5, 0.25
            at strength 1).
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
        # The mask of an unlabeled image is never read: padding is known from the geometry.
        image = aug.check_image(image, self.channels)
        geometry = draw_geometry(self.rng, *image.shape[:2], **self.geometry)
        weak = geometry.apply(image, 0, cv2.INTER_LINEAR)
        views = [aug.to_chw(weak, self.channels)]
        source = self._plane(weak, views[0])
        views += [
            aug.to_chw(self.strong(source, self.rng), self.channels)
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
        out: dict[str, Any] = {"image": aug.to_tensor(image)}
        if mask is not None:
            out["mask"] = mask_tensor(mask)
        return out
