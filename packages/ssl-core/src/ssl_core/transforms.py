"""Image decoding and augmentation on albumentations + OpenCV, any channel count.

Views are ``uint8`` tensors ``(C, H, W)``: cheap to make, 4x cheaper to collate and to
copy to the GPU than float; :mod:`ssl_core.data` normalizes them on the device. SimCLR's
RGB views use :class:`SimCLRView`, the same recipe written directly on OpenCV (about 2x
faster per view than the albumentations pipeline; ``bench/augment.py`` compares the whole
decode + two views with lightly's).

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (appendix A: the recipe)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import albumentations as A
import cv2
import numpy as np
import torch

cv2.setNumThreads(0)  # one thread per dataloader worker; workers give the parallelism


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``uint8`` ``(H, W, C)`` array to a contiguous ``uint8`` ``(C, H, W)`` tensor."""
    if image.ndim == 2:
        image = image[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


def seed_transform(transform, seed: int | None) -> None:
    """Seed a transform's random draws if it has any (``set_random_seed``, as
    albumentations' ``Compose`` and this module's transforms have); others are left."""
    setter = getattr(transform, "set_random_seed", None)
    if callable(setter):
        setter(seed)


class ImageTransform:
    """One albumentations pipeline applied to an image, returning a ``uint8`` tensor."""

    def __init__(self, pipeline: A.BasicTransform | A.Compose | None = None) -> None:
        self.pipeline = pipeline

    def set_random_seed(self, seed: int | None) -> None:
        if self.pipeline is not None:
            self.pipeline.set_random_seed(seed)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        if self.pipeline is not None:
            image = self.pipeline(image=image)["image"]
        return to_tensor(image)


class MultiViewTransform:
    """Make several views of one image, each with its own pipeline.

    Args:
        transforms: One callable per view, each mapping an ``(H, W, C)`` array to a view.
    """

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], torch.Tensor]]) -> None:
        self.transforms = list(transforms)

    def set_random_seed(self, seed: int | None) -> None:
        """Seed every view's transform with its own seed drawn from ``seed``."""
        seeds = random.Random(seed).sample(range(2**31), len(self.transforms))
        for transform, view_seed in zip(self.transforms, seeds, strict=True):
            seed_transform(transform, None if seed is None else view_seed)

    def __call__(self, image: np.ndarray) -> list[torch.Tensor]:
        return [t(image) for t in self.transforms]


def simclr_pipeline(
    size: int = 128,
    channels: int = 3,
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
) -> A.Compose:
    """SimCLR's augmentation of one view (defaults as lightly's ``SimCLRTransform``).

    Random resized crop, flips, colour jitter (brightness/contrast/saturation 0.8·s,
    hue 0.2·s), grayscale, Gaussian blur. For images that are not RGB, colour jitter
    becomes per-image brightness/contrast and grayscale is dropped (no hue or saturation
    without colour). ``vflip``/``rotate90`` are off as in the paper; turn them on for
    microscopy and remote sensing, where orientation carries no meaning.
    """
    s = cj_strength
    ops: list[A.BasicTransform] = [
        A.RandomResizedCrop(
            size=(size, size), scale=(min_scale, 1.0), interpolation=cv2.INTER_LINEAR
        ),
        A.HorizontalFlip(p=hflip_prob),
    ]
    if vflip_prob > 0:
        ops.append(A.VerticalFlip(p=vflip_prob))
    if rotate90_prob > 0:
        ops.append(A.RandomRotate90(p=rotate90_prob))
    if channels == 3:
        ops += [
            A.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, cj_hue * s, p=cj_prob),
            A.ToGray(num_output_channels=3, p=gray_prob),
        ]
    else:
        ops.append(A.RandomBrightnessContrast(0.8 * s, 0.8 * s, p=cj_prob))
    if blur_prob > 0:
        # Kernel ~10% of the image side as in the paper; sigma drawn from blur_sigma.
        kernel = int(0.1 * size) // 2 * 2 + 1
        ops.append(A.GaussianBlur(blur_limit=(kernel, kernel), sigma_limit=blur_sigma, p=blur_prob))
    return A.Compose(ops)


# Colour jitter on uint8 RGB with single OpenCV calls; torchvision's definitions
# (torchvision.transforms.functional.adjust_*), which lightly's SimCLR uses on PIL images.
# ITU-R 601 luma, as OpenCV's and PIL's RGB -> gray.
_LUMA = (0.299, 0.587, 0.114)
_LUMA_ROWS = np.tile(np.array(_LUMA, dtype=np.float32), (3, 1))


def adjust_brightness(image: np.ndarray, factor: float) -> np.ndarray:
    """``image * factor``, rounded and clipped to uint8 (``factor >= 0``)."""
    return cv2.convertScaleAbs(image, alpha=factor)


def adjust_contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """Blend of the image with its mean gray level: ``m + factor * (image - m)``."""
    r, g, b, _ = cv2.mean(image)  # the gray image's mean, gray being linear in RGB
    mean = _LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b
    return cv2.addWeighted(image, factor, image, 0.0, (1.0 - factor) * mean)


def adjust_saturation(image: np.ndarray, factor: float) -> np.ndarray:
    """Blend of the image with its grayscale version, as one 3x3 colour matrix."""
    matrix = factor * np.eye(3, dtype=np.float32) + (1.0 - factor) * _LUMA_ROWS
    return cv2.transform(image, matrix)


def adjust_hue(image: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue by ``factor`` turns (in ``[-0.5, 0.5]``).

    As PIL/torchvision: in 8-bit HSV with 256 hue levels (OpenCV's ``*_FULL``
    conversions), adding to H with wrap-around.
    """
    shift = round(factor * 256) % 256
    if not shift:
        return image
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL)
    hsv[:, :, 0] += np.uint8(shift)  # uint8 arithmetic wraps modulo 256
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


class SimCLRView:
    """One SimCLR view of an RGB image, written directly on OpenCV (fast path).

    The same augmentation as :func:`simclr_pipeline` (and lightly's / torchvision's
    ``SimCLRTransform``): random resized crop (torchvision's sampling: scale
    ``(min_scale, 1)``, log-uniform ratio ``(3/4, 4/3)``, 10 tries then a center
    crop), flips, colour jitter with probability ``cj_prob`` (brightness, contrast,
    saturation factors uniform in ``[1 - 0.8s, 1 + 0.8s]``, hue shift uniform in
    ``[-hue, hue]`` turns, the four in random order), grayscale, Gaussian blur
    (``sigma`` uniform in ``blur_sigma``, kernel ~10% of the side), then a ``uint8``
    ``(3, size, size)`` tensor.

    Why not albumentations here (per 128 px view, one thread, on a busy 2-core machine,
    so +-50%): ``A.ColorJitter`` took 700-1300 us against 330-600 us for
    :meth:`color_jitter`, ``A.GaussianBlur`` 500-1200 us against 170-330 us, a whole
    ``A.Compose`` view 1.8-2.1 ms against 0.86-0.91 ms. The difference is mostly Python
    overhead (parameter checks, kernel construction, contiguity and dtype handling per
    op); here each op is one or two OpenCV calls. Hue is shifted as PIL/torchvision do
    it: in 8-bit HSV (256 hue levels, OpenCV's ``*_FULL`` conversion), with
    wrap-around, where albumentations uses OpenCV's 180-level hue; see
    :func:`adjust_hue` and its neighbours.

    Random numbers come from the view's own :class:`random.Random`, which
    :meth:`set_random_seed` reseeds; the datasets of :mod:`ssl_core.data` do so per
    sample with a seed their sampler drew, so every dataloader worker draws its own
    views and a sample's views depend on its seed alone.
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
        self.ratio = (3 / 4, 4 / 3)
        self.log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        self.cj_prob = cj_prob
        self.cj = 0.8 * cj_strength  # brightness, contrast and saturation (SimCLR: 0.8 s)
        self.cj_hue = min(cj_hue * cj_strength, 0.5)
        self.gray_prob = gray_prob
        self.blur_prob = blur_prob
        self.blur_sigma = blur_sigma
        # Kernel ~10% of the image side as in the paper (13 px at 128 px).
        self.blur_kernel = int(0.1 * size) // 2 * 2 + 1
        self.hflip_prob = hflip_prob
        self.vflip_prob = vflip_prob
        self.rotate90_prob = rotate90_prob
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        self.rng.seed(seed)

    def crop_box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """``(top, left, h, w)`` of a random resized crop (torchvision's algorithm)."""
        area = height * width
        for _ in range(10):
            target = area * self.rng.uniform(*self.scale)
            aspect = math.exp(self.rng.uniform(*self.log_ratio))
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return self.rng.randint(0, height - h), self.rng.randint(0, width - w), h, w
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            h, w = height, int(round(height * self.ratio[1]))
        else:
            h, w = height, width
        return (height - h) // 2, (width - w) // 2, h, w

    def color_jitter(self, image: np.ndarray) -> np.ndarray:
        """torchvision's ``ColorJitter(b, c, s, h)``: four random factors, random order."""
        lo, hi = max(0.0, 1.0 - self.cj), 1.0 + self.cj
        ops = [
            (adjust_brightness, self.rng.uniform(lo, hi)),
            (adjust_contrast, self.rng.uniform(lo, hi)),
            (adjust_saturation, self.rng.uniform(lo, hi)),
            (adjust_hue, self.rng.uniform(-self.cj_hue, self.cj_hue)),
        ]
        self.rng.shuffle(ops)
        for op, factor in ops:
            image = op(image, factor)
        return image

    def blur(self, image: np.ndarray) -> np.ndarray:
        """Gaussian blur with ``sigma ~ U(blur_sigma)``.

        The kernel is cut at 4 sigma when that is shorter than ``blur_kernel``: the
        weights left out sum to < 1e-4, below uint8 rounding (checked in the tests),
        and small sigmas then cost 5-9 taps instead of 13.
        """
        sigma = self.rng.uniform(*self.blur_sigma)
        ksize = min(self.blur_kernel, 2 * math.ceil(4 * sigma) + 1)
        kernel = cv2.getGaussianKernel(ksize, sigma, cv2.CV_32F)
        return cv2.sepFilter2D(image, -1, kernel, kernel)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        top, left, h, w = self.crop_box(image.shape[0], image.shape[1])
        # A view into the decoded image, no copy; bilinear as torchvision's default.
        view = cv2.resize(
            image[top : top + h, left : left + w],
            (self.size, self.size),
            interpolation=cv2.INTER_LINEAR,
        )
        if self.rng.random() < self.hflip_prob:
            view = cv2.flip(view, 1)
        if self.vflip_prob > 0 and self.rng.random() < self.vflip_prob:
            view = cv2.flip(view, 0)
        if self.rotate90_prob > 0 and self.rng.random() < self.rotate90_prob:
            k = self.rng.randint(0, 3)
            if k:
                view = cv2.rotate(
                    view,
                    (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE)[
                        k - 1
                    ],
                )
        if self.rng.random() < self.cj_prob:
            view = self.color_jitter(view)
        gray = self.rng.random() < self.gray_prob
        if gray:  # stays one channel through the blur (3x less work), expanded at the end
            view = cv2.cvtColor(view, cv2.COLOR_RGB2GRAY)
        if self.rng.random() < self.blur_prob:
            view = self.blur(view)
        if gray:  # numpy, not torch: a torch copy this size may wake intra-op threads
            return torch.from_numpy(np.ascontiguousarray(np.broadcast_to(view, (3, *view.shape))))
        return to_tensor(view)


class SimCLRTransform(MultiViewTransform):
    """Two SimCLR views of an image (see :func:`simclr_pipeline` for the arguments).

    RGB images go through :class:`SimCLRView` (the same augmentation written directly on
    OpenCV, several times faster); other channel counts, or ``fast=False``, through the
    albumentations pipeline of :func:`simclr_pipeline`.
    """

    def __init__(
        self, size: int = 128, channels: int = 3, views: int = 2, fast: bool = True, **kwargs
    ) -> None:
        if fast and channels == 3:
            transforms = [SimCLRView(size, **kwargs) for _ in range(views)]
        else:
            transforms = [
                ImageTransform(simclr_pipeline(size, channels, **kwargs)) for _ in range(views)
            ]
        super().__init__(transforms)


class EvalTransform(ImageTransform):
    """Deterministic evaluation view: resize the short side, center crop ``size``.

    Args:
        size: Output side.
        resize: Short side before cropping (default ``size * 8/7``, as 224/256 on ImageNet).
    """

    def __init__(self, size: int = 128, resize: int | None = None) -> None:
        resize = resize or int(round(size * 8 / 7))
        super().__init__(
            A.Compose(
                [
                    A.SmallestMaxSize(max_size=resize, interpolation=cv2.INTER_AREA),
                    A.CenterCrop(size, size),
                ]
            )
        )


# ---------------------------------------------------------------- semi-supervised views
# Weak and strong views of FixMatch (Sohn et al. 2020, https://arxiv.org/abs/2001.07685),
# also the views of Mean Teacher, Pseudo-Label and the supervised baseline.


def weak_pipeline(
    size: int = 128,
    channels: int = 3,
    min_scale: float = 0.35,
    hflip_prob: float = 0.5,
    vflip_prob: float = 0.0,
    rotate90_prob: float = 0.0,
) -> A.Compose:
    """FixMatch's weak augmentation: a mild random resized crop and flips.

    The paper's weak view on 32 px images is flip + translation by up to 12.5%; on
    Imagenette's images of any size a random resized crop with ``scale >= min_scale``
    plays that role (a departure; ``min_scale=1`` keeps whole images).
    """
    ops: list[A.BasicTransform] = [
        A.RandomResizedCrop(
            size=(size, size), scale=(min_scale, 1.0), interpolation=cv2.INTER_LINEAR
        ),
        A.HorizontalFlip(p=hflip_prob),
    ]
    if vflip_prob > 0:
        ops.append(A.VerticalFlip(p=vflip_prob))
    if rotate90_prob > 0:
        ops.append(A.RandomRotate90(p=rotate90_prob))
    return A.Compose(ops)


def strong_pipeline(
    size: int = 128,
    channels: int = 3,
    min_scale: float = 0.35,
    num_ops: int = 2,
    cutout: float = 0.5,
    hflip_prob: float = 0.5,
    vflip_prob: float = 0.0,
    rotate90_prob: float = 0.0,
) -> A.Compose:
    """FixMatch's strong augmentation: weak view, RandAugment-like ops, then Cutout.

    ``num_ops`` operations drawn from the RandAugment list (Cubuk et al. 2020,
    https://arxiv.org/abs/1909.13719), each with a random magnitude as in FixMatch's
    "RA" variant: autocontrast, equalize, posterize, solarize, brightness, contrast,
    colour, sharpness, rotation, shear, translation. Then one Cutout square of side
    ``cutout`` x image side (the paper draws it up to half the side). Without RGB the
    colour operations are left out.
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
    return A.Compose(
        [
            *weak_pipeline(
                size, channels, min_scale, hflip_prob, vflip_prob, rotate90_prob
            ).transforms,
            A.SomeOf(ops, n=num_ops, replace=False, p=1.0),
            A.CoarseDropout(
                num_holes_range=(1, 1),
                hole_height_range=side,
                hole_width_range=side,
                fill=127,
                p=1.0 if cutout > 0 else 0.0,
            ),
        ]
    )


class WeakStrongTransform(MultiViewTransform):
    """``weak_views`` weak views, then ``strong_views`` strong views of an image.

    FixMatch: ``weak_views=1, strong_views=1``; Mean Teacher (student and teacher see
    different noise): ``weak_views=2, strong_views=0``; supervised baseline and
    Pseudo-Label: ``weak_views=1, strong_views=0``. See :func:`weak_pipeline` and
    :func:`strong_pipeline` for the arguments.
    """

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
        flips = (hflip_prob, vflip_prob, rotate90_prob)
        weak = weak_pipeline(size, channels, min_scale, *flips)
        strong = strong_pipeline(size, channels, min_scale, num_ops, cutout, *flips)
        super().__init__(
            [ImageTransform(weak) for _ in range(weak_views)]
            + [ImageTransform(strong) for _ in range(strong_views)]
        )
