"""Image decoding and augmentation on albumentations + OpenCV, any channel count.

Views are ``uint8`` tensors ``(C, H, W)``: cheap to make, 4x cheaper to collate and to
copy to the GPU than float; :mod:`ssl_core.data` normalizes them on the device.

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (appendix A: the recipe)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import torch

cv2.setNumThreads(0)  # one thread per dataloader worker; workers give the parallelism


def decode_image(path: str | Path, channels: int = 3) -> np.ndarray:
    """Read an image file as ``uint8`` ``(H, W, C)``.

    ``channels=3`` returns RGB (grayscale files are expanded, alpha dropped);
    ``channels=1`` returns grayscale; other counts keep the file's channels and check
    them (e.g. RGBA microscopy, 4 channels).
    """
    path = str(path)
    if channels == 3:
        image = cv2.imread(path, cv2.IMREAD_COLOR_RGB)
    elif channels == 1:
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    else:
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise OSError(f"Cannot decode image {path}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] != channels:
        raise ValueError(f"{path} has {image.shape[2]} channels, expected {channels}")
    return image


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``uint8`` ``(H, W, C)`` array to a contiguous ``uint8`` ``(C, H, W)`` tensor."""
    if image.ndim == 2:
        image = image[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


class ImageTransform:
    """One albumentations pipeline applied to an image, returning a ``uint8`` tensor."""

    def __init__(self, pipeline: A.BasicTransform | A.Compose | None = None) -> None:
        self.pipeline = pipeline

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
        A.RandomResizedCrop(size=(size, size), scale=(min_scale, 1.0), interpolation=cv2.INTER_LINEAR),
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


class SimCLRTransform(MultiViewTransform):
    """Two SimCLR views of an image (see :func:`simclr_pipeline` for the arguments)."""

    def __init__(self, size: int = 128, channels: int = 3, views: int = 2, **kwargs) -> None:
        super().__init__([ImageTransform(simclr_pipeline(size, channels, **kwargs)) for _ in range(views)])


class EvalTransform(ImageTransform):
    """Deterministic evaluation view: resize the short side, center crop ``size``.

    Args:
        size: Output side.
        resize: Short side before cropping (default ``size * 8/7``, as 224/256 on ImageNet).
    """

    def __init__(self, size: int = 128, resize: int | None = None) -> None:
        resize = resize or int(round(size * 8 / 7))
        super().__init__(
            A.Compose([
                A.SmallestMaxSize(max_size=resize, interpolation=cv2.INTER_AREA),
                A.CenterCrop(size, size),
            ])
        )
