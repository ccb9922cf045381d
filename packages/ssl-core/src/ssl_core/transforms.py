"""Views of images for classification and self-supervision, any channel count: ``uint8``
``(C, H, W)`` tensors, each transform seeded per sample (docs/methods.md, "Batches").

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (appendix A: the recipe)
- [1] FixMatch, Sohn et al. 2020, https://arxiv.org/abs/2001.07685
- [2] RandAugment, Cubuk et al. 2020, https://arxiv.org/abs/1909.13719
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import albumentations as A
import cv2
import numpy as np
import torch

from ssl_core import augment as aug
from ssl_core.data.views import Views, seed_transform
from ssl_core.errors import BadInputError


class MultiViewTransform(Views):
    """Several views of one image, each made by its own callable on the ``(H, W, C)``
    array (``channels``: checked where given)."""

    def __init__(self, views: Sequence[Callable], channels: int | None = None) -> None:
        super().__init__(views)
        self.channels = channels

    def set_random_seed(self, seed: int | None) -> None:
        """Seed view ``i`` with ``seed * views + i``: a seed of its own per sample."""
        n = len(self.views)
        for i, transform in enumerate(self.views):
            seed_transform(transform, None if seed is None else seed * n + i)

    def __call__(self, image: np.ndarray) -> list[torch.Tensor]:
        if self.channels is not None:
            image = aug.check_image(image, self.channels)
        return [t(image) for t in self.views]


class SimCLRView:
    """One SimCLR view of an image with any channel count [0], as lightly's: random resized
    crop (area ``(min_scale, 1)``, bilinear), flips and 90-degree turns, colour jitter
    (brightness, contrast, saturation ``0.8 s``, hue ``cj_hue s``; the last two RGB only),
    greyscale (RGB only), Gaussian blur (kernel at most 10% of the side). ``vflip``/
    ``rotate90`` are off as in the paper; turn them on where orientation carries no
    meaning (microscopy). Without colour and blur this is FixMatch's weak view.
    """

    def __init__(
        self,
        size: int = 128,
        min_scale: float = 0.08,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_hue: float = 0.2,
        gray_prob: float = 0.2,
        blur_prob: float = 0.5,
        blur_sigma: tuple[float, float] = (0.1, 2.0),
        hflip_prob: float = 0.5,
        vflip_prob: float = 0.0,
        rotate90_prob: float = 0.0,
    ) -> None:
        self.size = size
        self.scale = (min_scale, 1.0)
        jitter, hue = 0.8 * cj_strength, min(cj_hue * cj_strength, 0.5)  # SimCLR: 0.8 s
        kernel = int(0.1 * size) // 2 * 2 + 1  # blur kernel ~10% of the side (13 px at 128)
        self.photometric = aug.Photometric(
            cj_prob, jitter, hue, gray_prob, blur_prob, blur_sigma, kernel
        )
        self.flips = (hflip_prob, vflip_prob, rotate90_prob)
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        self.rng.seed(seed)

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The random resized crop, flipped and turned: ``(size, size, C)``."""
        top, left, h, w = aug.resized_crop_box(self.rng, *image.shape[:2], self.scale)
        view = aug.resize(
            image[top : top + h, left : left + w], self.size, self.size, cv2.INTER_LINEAR
        )
        flips = aug.random_orientation(self.rng, *self.flips)
        return aug.orient(view, *flips) if any(flips) else view

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        view = self.crop(image)
        return aug.to_chw(self.photometric(view, self.rng), view.shape[2])


class SimCLRTransform(MultiViewTransform):
    """``views`` SimCLR views of an image (see :class:`SimCLRView` for the arguments).

    Args:
        channels: Channels of the images (checked).
    """

    def __init__(self, size: int = 128, channels: int = 3, views: int = 2, **kwargs) -> None:
        super().__init__([SimCLRView(size, **kwargs) for _ in range(views)], channels)


class EvalTransform:
    """Deterministic evaluation view: resize the short side, center crop ``size``.

    Args:
        size: Output side.
        resize: Short side before cropping (default ``size * 8/7``, as 224/256 on ImageNet).
    """

    def __init__(self, size: int = 128, resize: int | None = None) -> None:
        resize = resize or int(round(size * 8 / 7))
        shorter = A.SmallestMaxSize(max_size=resize, interpolation=cv2.INTER_AREA)
        self.pipeline = A.Compose([shorter, A.CenterCrop(size, size)])

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        return aug.to_tensor(self.pipeline(image=image)["image"])


def randaugment_pipeline(
    size: int = 128, channels: int = 3, num_ops: int = 2, cutout: float = 0.5
) -> A.Compose:
    """FixMatch's strong augmentation [1]: ``num_ops`` RandAugment ops [2] with random
    magnitudes (the colour ones RGB only), then one Cutout square of ``cutout`` x the side.
    """
    ops: list[A.BasicTransform] = [
        A.RandomBrightnessContrast(brightness_limit=(-0.45, 0.45), contrast_limit=0.0, p=1.0),
        A.RandomBrightnessContrast(brightness_limit=0.0, contrast_limit=(-0.45, 0.45), p=1.0),
        A.Sharpen(alpha=(0.1, 0.9), lightness=(1.0, 1.0), p=1.0),
        A.Posterize(num_bits=(4, 8), p=1.0),
        A.Solarize(threshold_range=(0.0, 1.0), p=1.0),
        A.Affine(rotate=(-30, 30), p=1.0),
        A.Affine(shear={"x": (-17, 17), "y": (0, 0)}, p=1.0),
        A.Affine(shear={"x": (0, 0), "y": (-17, 17)}, p=1.0),
        A.Affine(translate_percent={"x": (-0.3, 0.3), "y": (0, 0)}, p=1.0),
        A.Affine(translate_percent={"x": (0, 0), "y": (-0.3, 0.3)}, p=1.0),
    ]
    if channels == 3:
        ops += [
            A.AutoContrast(p=1.0),
            A.Equalize(p=1.0),
            A.ColorJitter(brightness=0.0, contrast=0.0, saturation=(0.05, 1.95), hue=0.0, p=1.0),
        ]
    side = (max(int(cutout * size), 1),) * 2
    dropout = A.CoarseDropout(
        num_holes_range=(1, 1), hole_height_range=side, hole_width_range=side, fill=127, p=1.0
    )
    return A.Compose([A.SomeOf(ops, n=num_ops, replace=False, p=1.0)] + [dropout] * (cutout > 0))


class StrongView:
    """FixMatch's strong view: a weak view (:class:`SimCLRView` without colour), then
    :func:`randaugment_pipeline` on it."""

    def __init__(self, weak: SimCLRView, pipeline: A.Compose) -> None:
        self.weak, self.pipeline = weak, pipeline

    def set_random_seed(self, seed: int | None) -> None:
        self.weak.set_random_seed(seed)
        self.pipeline.set_random_seed(None if seed is None else seed + 1)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        view = self.pipeline(image=self.weak.crop(image))["image"]
        return aug.to_tensor(view.reshape(*view.shape[:2], -1))


class WeakStrongTransform(MultiViewTransform):
    """``weak_views`` weak views, then ``strong_views`` strong views of an image (FixMatch
    [1]: 1 and 1; Mean Teacher: 2 and 0; supervised: 1 and 0; the weak view's departure:
    docs/methods.md, "FixMatch"); a strong view is :class:`StrongView`."""

    def __init__(
        self,
        size: int = 128,
        channels: int = 3,
        weak_views: int = 1,
        strong_views: int = 1,
        min_scale: float = 0.35,
        num_ops: int = 2,
        cutout: float = 0.5,
        hflip_prob: float = 0.5,
        vflip_prob: float = 0.0,
        rotate90_prob: float = 0.0,
    ) -> None:
        flips = dict(hflip_prob=hflip_prob, vflip_prob=vflip_prob, rotate90_prob=rotate90_prob)

        def weak() -> SimCLRView:
            return SimCLRView(size, min_scale, cj_prob=0, gray_prob=0, blur_prob=0, **flips)

        strong = [
            StrongView(weak(), randaugment_pipeline(size, channels, num_ops, cutout))
            for _ in range(strong_views)
        ]
        super().__init__([weak() for _ in range(weak_views)] + strong, channels)


# Domain shifts: a fixed corruption of the final evaluation view, ``KIND:AMOUNT``.
KINDS = {
    "noise": "sigma, fraction of the range",
    "hue": "fraction of the hue circle",
    "blur": "sigma in pixels",
}


def parse_shift(spec: str, kinds: dict[str, str] = KINDS) -> tuple[str, float]:
    """``"noise:0.1"`` -> ``("noise", 0.1)``; one line for anything else (``kinds``: the
    kinds a modality has, with what their amount means)."""
    kind, sep, amount = spec.partition(":")
    kind = kind.strip().lower()
    try:
        value = float(amount)
    except ValueError:
        value = None
    if not sep or kind not in kinds or value is None or value < 0:
        known = ", ".join(f"{k}:AMOUNT ({what})" for k, what in kinds.items())
        raise BadInputError(f"Bad shift {spec!r}: expected one of {known}, AMOUNT >= 0")
    return kind, value


class ShiftTransform:
    """A shift ``spec`` (``KIND:AMOUNT``, :data:`KINDS`) after the transform ``base``."""

    def __init__(self, base: Callable[[np.ndarray], torch.Tensor], spec: str) -> None:
        self.base, self.spec = base, spec
        self.kind, self.amount = parse_shift(spec)
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        seed_transform(self.base, seed)
        self.rng.seed(seed)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        view = self.base(image)
        array = np.ascontiguousarray(view.numpy().transpose(1, 2, 0))
        if self.kind == "noise":
            return aug.to_tensor(aug.gaussian_noise(array, self.amount, self.rng))
        if self.kind == "blur":
            return aug.to_tensor(aug.gaussian_blur(array, self.amount))
        if not aug.is_rgb(array):
            raise ValueError(f"Shift {self.spec!r} needs RGB images, not {array.shape[2]} channels")
        return aug.to_tensor(aug.adjust_hue(array, self.amount))

    def __repr__(self) -> str:
        return f"ShiftTransform({self.base!r}, {self.spec!r})"
