"""Joint image + mask transforms for segmentation (albumentations), any channel count.

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

Seeds: ``set_random_seed(seed)`` seeds the geometry and every strong view with distinct
seeds drawn from ``seed`` (as :class:`ssl_core.transforms.MultiViewTransform`), so the
datasets of :mod:`ssl_core.segmentation.data` can give every sample its own seed and every
dataloader worker draws its own augmentations (albumentations 2.0.8 would otherwise draw
the same parameters in every worker).
"""

from __future__ import annotations

import random
from typing import Any

import albumentations as A
import cv2
import numpy as np
import torch

from ssl_core.transforms import to_tensor

IGNORE_INDEX = 255


def _geometry(
    size: int,
    scale: tuple[float, float],
    hflip_prob: float,
    vflip_prob: float,
    rotate90_prob: float,
    ignore_index: int,
) -> list[A.BasicTransform]:
    """Random rescale (optional), pad to ``size`` (image 0, mask ``ignore_index``), random
    crop of ``size``, flips, rot90: the same draw for image and mask."""
    ops: list[A.BasicTransform] = []
    if tuple(scale) != (1.0, 1.0):
        # RandomScale takes limits relative to 1: (0.5, 2.0) -> (-0.5, 1.0)
        ops.append(
            A.RandomScale(
                scale_limit=(scale[0] - 1.0, scale[1] - 1.0),
                interpolation=cv2.INTER_LINEAR,
                mask_interpolation=cv2.INTER_NEAREST,
                p=1.0,
            )
        )
    ops += [
        A.PadIfNeeded(
            min_height=size,
            min_width=size,
            border_mode=cv2.BORDER_CONSTANT,
            fill=0,
            fill_mask=ignore_index,
            position="random",
        ),
        A.RandomCrop(height=size, width=size),
    ]
    if hflip_prob > 0:
        ops.append(A.HorizontalFlip(p=hflip_prob))
    if vflip_prob > 0:
        ops.append(A.VerticalFlip(p=vflip_prob))
    if rotate90_prob > 0:
        ops.append(A.RandomRotate90(p=rotate90_prob))
    return ops


def strong_photometric(
    channels: int,
    cj_prob: float = 0.8,
    cj_strength: float = 1.0,
    gray_prob: float = 0.2,
    blur_prob: float = 0.5,
    blur_sigma: tuple[float, float] = (0.1, 2.0),
) -> A.Compose:
    """UniMatch's strong photometric view of an image (see the module docstring)."""
    s = cj_strength
    ops: list[A.BasicTransform] = []
    if channels in (1, 3):
        ops.append(A.ColorJitter(0.5 * s, 0.5 * s, 0.5 * s, min(0.25 * s, 0.5), p=cj_prob))
    else:
        ops.append(
            A.Compose(
                [
                    # relative to the image's mean, not to 255: a dark microscopy image
                    # is not wiped out (as torchvision's multiplicative brightness)
                    A.RandomBrightnessContrast(0.4 * s, 0.4 * s, brightness_by_max=False, p=1.0),
                    A.RandomGamma(gamma_limit=(70, 150), p=0.5),
                ],
                p=cj_prob,
            )
        )
    if channels == 3 and gray_prob > 0:
        ops.append(A.ToGray(num_output_channels=3, p=gray_prob))
    if blur_prob > 0:
        ops.append(A.GaussianBlur(blur_limit=0, sigma_limit=blur_sigma, p=blur_prob))
    return A.Compose(ops)


def mask_tensor(mask: np.ndarray) -> torch.Tensor:
    """``(H, W)`` class ids as an ``int64`` tensor."""
    return torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64, copy=False))


def _seeds(seed: int | None, n: int) -> list[int | None]:
    """``n`` distinct seeds drawn from ``seed`` (``None`` stays unseeded)."""
    if seed is None:
        return [None] * n
    return random.Random(seed).sample(range(2**31), n)


class SegTrainTransform:
    """A labeled training sample: random crop, flips, rot90 of image and mask together.

    Args:
        size: Side of the crop; smaller images are padded (image 0, mask ``ignore_index``).
        channels: Channels of the images (photometric ops depend on it).
        scale: Random rescale range before the crop (``(1, 1)``: none).
        hflip_prob: Probability of a horizontal flip.
        vflip_prob: Probability of a vertical flip.
        rotate90_prob: Probability of a rotation by a random multiple of 90 degrees.
        photometric_prob: Probability of mild brightness/contrast (0.2) on the image.
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
        self.size = size
        self.channels = channels
        ops = _geometry(size, scale, hflip_prob, vflip_prob, rotate90_prob, ignore_index)
        if photometric_prob > 0:
            ops.append(A.RandomBrightnessContrast(0.2, 0.2, p=photometric_prob))
        self.pipeline = A.Compose(ops)

    def set_random_seed(self, seed: int | None) -> None:
        self.pipeline.set_random_seed(seed)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> dict[str, torch.Tensor]:
        out = self.pipeline(image=image, mask=mask)
        return {"image": to_tensor(out["image"]), "mask": mask_tensor(out["mask"])}


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
        ignore_index: Value marking padding in ``ignore``.
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
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        if strong_views < 0:
            raise ValueError(f"strong_views must be >= 0, not {strong_views}")
        self.size = size
        self.channels = channels
        self.ignore_index = ignore_index
        self.weak = A.Compose(
            _geometry(size, scale, hflip_prob, vflip_prob, rotate90_prob, ignore_index)
        )
        self.strong = [
            strong_photometric(channels, cj_prob, cj_strength, gray_prob, blur_prob, blur_sigma)
            for _ in range(strong_views)
        ]

    def set_random_seed(self, seed: int | None) -> None:
        """The geometry and every strong view, each with its own seed from ``seed``."""
        pipelines = [self.weak, *self.strong]
        for pipeline, s in zip(pipelines, _seeds(seed, len(pipelines)), strict=True):
            pipeline.set_random_seed(s)

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None) -> dict[str, Any]:
        # The mask of an unlabeled image is never read; a zero mask marks what padding adds.
        valid = np.zeros(image.shape[:2], np.uint8)
        out = self.weak(image=image, mask=valid)
        weak, ignore = out["image"], out["mask"]
        views = [to_tensor(weak)]
        views += [to_tensor(strong(image=weak)["image"]) for strong in self.strong]
        ignore = np.where(ignore == self.ignore_index, 255, 0).astype(np.uint8)
        return {"views": views, "ignore": torch.from_numpy(ignore)}


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
