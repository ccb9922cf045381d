"""The segmentation transforms: geometry that keeps image, mask and views aligned for any
channel count, and the grey-plane shortcut that changes nothing (the operations
themselves are tested once, in ``test_augment.py``, for both tasks)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ssl_core import augment as aug
from ssl_core.segmentation import transforms as T


def colour(height: int = 48, width: int = 40, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth colour image (blurred noise): every channel different, the full range."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return aug.gaussian_blur(x, 1.0)


def coordinates(height: int, width: int, channels: int) -> np.ndarray:
    """Channel ``c`` of pixel ``(y, x)`` holds ``(y * width + x + 7 c) % 251``: any shift,
    flip, turn or channel mix-up between two arrays shows."""
    yy, xx = np.mgrid[:height, :width]
    return np.stack([(yy * width + xx + 7 * c) % 251 for c in range(channels)], axis=2).astype(
        np.uint8
    )


def test_a_grey_crop_as_one_plane_gives_the_same_strong_views():
    """The shortcut for images of equal channels is exact: same seeds, same pixels."""
    grey = colour(channels=1)[:, :, 0]
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    strong = aug.Photometric(0.9, 0.5, 0.25, gray_prob=0.3, blur_prob=0.5, blur_sigma=(0.1, 2.0))
    for seed in range(40):
        from_plane = strong(grey, random.Random(seed))
        from_rgb = strong(rgb, random.Random(seed))
        assert torch.equal(aug.to_chw(from_plane, 3), aug.to_chw(from_rgb, 3)), seed


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
def test_train_crop_image_and_mask_stay_aligned_for_any_channel_count(channels):
    """Crop, padding at a random place, flips and turns, with and without rescaling:
    the mask is the image's first channel (padding: image 0, mask 255)."""
    for height, width, scale in [(50, 70, (1.0, 1.0)), (30, 20, (1.0, 1.0)), (60, 45, (0.5, 2.0))]:
        image = coordinates(height, width, channels)
        mask = image[:, :, 0].copy()
        transform = T.SegTrainTransform(32, channels, scale=scale)
        for seed in range(12):
            transform.set_random_seed(seed)
            out = transform(image, mask)
            x, y = out["image"], out["mask"]
            assert x.shape == (channels, 32, 32) and x.dtype == torch.uint8
            assert y.shape == (32, 32) and y.dtype == torch.int64
            padding = y == 255
            assert (x[:, padding] == 0).all()
            if scale == (1.0, 1.0):  # nearest vs linear after a rescale: not equal
                assert torch.equal(x[0][~padding].long(), y[~padding])
                for c in range(1, channels):  # channels stay in order
                    assert torch.equal(x[c][~padding].long(), (y[~padding] + 7 * c) % 251)
            if min(height, width) < 32 and scale == (1.0, 1.0):
                assert padding.sum() == 32 * 32 - min(height, 32) * min(width, 32)


def spread(view: torch.Tensor, group: torch.Tensor) -> int:
    """The largest range of a view's values over pixels of the same ``group``."""
    values = view.reshape(view.shape[0], -1).T.int()
    return max(
        int((values[group == g].amax(0) - values[group == g].amin(0)).max()) for g in group.unique()
    )


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
def test_strong_views_are_pixelwise_functions_of_the_weak_view(channels):
    """Without blur, a strong view maps equal weak pixels to equal pixels (colour
    jitter, greyscale, brightness/contrast/gamma act pixel by pixel): any geometry of
    its own, or a channel mix-up, breaks that. Up to a few levels: OpenCV's HSV -> RGB
    rounds its vectorized and its scalar pixels 1 apart (albumentations' too), which
    the ops after the hue may stretch."""
    image = colour(70, 60, channels) // 64 * 64  # few distinct colours: many repeats
    transform = T.SegWeakStrongTransform(
        48, channels, strong_views=3, cj_prob=1.0, gray_prob=0.5, blur_prob=0.0
    )
    for seed in range(8):
        transform.set_random_seed(seed)
        out = transform(image)
        weak, *strong = out["views"]
        assert all(v.shape == (channels, 48, 48) and v.dtype == torch.uint8 for v in out["views"])
        _, group = torch.unique(weak.reshape(channels, -1).T, dim=0, return_inverse=True)
        assert all(spread(view, group) <= 4 for view in strong)
        assert spread(torch.flip(strong[0], dims=[-1]), group) > 4  # what the test catches


def test_weak_view_keeps_the_pixels_of_the_image_and_padding_is_marked():
    image = coordinates(40, 50, 3)
    transform = T.SegWeakStrongTransform(64, 3, strong_views=1)
    for seed in range(10):
        transform.set_random_seed(seed)
        out = transform(image)
        weak, ignore = out["views"][0], out["ignore"] == 255
        assert ignore.sum() == 64 * 64 - 40 * 50 and (weak[:, ignore] == 0).all()
        # the crop is the image turned/flipped: the same multiset of pixels
        assert sorted(weak[0][~ignore].tolist()) == sorted(image[:, :, 0].ravel().tolist())


def test_only_crops_of_equal_channels_are_jittered_as_one_plane():
    transform = T.SegWeakStrongTransform(8, 3)
    colour = coordinates(8, 8, 3)
    grey = np.repeat(colour[:, :, :1], 3, axis=2)
    assert transform._plane(colour, aug.to_chw(colour, 3)).ndim == 3
    assert transform._plane(grey, aug.to_chw(grey, 3)).ndim == 2


def test_images_of_the_wrong_channel_count_or_type_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        T.SegWeakStrongTransform(32, 3)(coordinates(40, 40, 4))
    with pytest.raises(ValueError, match="uint8"):
        T.SegTrainTransform(32, 3)(coordinates(40, 40, 3).astype(np.float32), np.zeros((40, 40)))
