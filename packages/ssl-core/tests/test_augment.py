"""One test per augmentation operation of :mod:`ssl_core.augment`, the ops both tasks'
transforms and the shift corruptions share: against torchvision / albumentations /
numpy references, for the channel counts each op supports."""

from __future__ import annotations

import math
import random

import albumentations as A
import cv2
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from ssl_core import augment as aug

CHANNELS = [1, 3, 4, 13]


def colourful(size: int = 48, seed: int = 0) -> np.ndarray:
    """Smooth hue/brightness gradients plus noise: every hue, mid saturations."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    hsv = np.stack([x * 255, 80 + 150 * y, 60 + 180 * (1 - x * y)], axis=-1)
    hsv = np.clip(hsv + rng.normal(0, 6, hsv.shape), 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


def image(channels: int, size: int = 40, seed: int = 0) -> np.ndarray:
    """A smooth image of ``channels`` different channels over the full range."""
    x = np.random.default_rng(seed).integers(0, 256, (size, size + 8, channels), np.uint8)
    return cv2.GaussianBlur(x, (5, 5), 1.0).reshape(x.shape)


def torchvision(x: np.ndarray, op, factor: float) -> np.ndarray:
    return np.asarray(op(Image.fromarray(x), factor)).astype(int)


@pytest.mark.parametrize("factor", [0.2, 0.6, 1.0, 1.4, 1.8])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (aug.adjust_brightness, TF.adjust_brightness),
        (aug.adjust_contrast, TF.adjust_contrast),
        (aug.adjust_saturation, TF.adjust_saturation),
    ],
)
def test_colour_ops_match_torchvision(ours, theirs, factor):
    x = colourful()
    diff = np.abs(ours(x, factor).astype(int) - torchvision(x, theirs, factor))
    assert diff.max() <= 2 and diff.mean() < 0.6, (diff.max(), diff.mean())  # rounding only


@pytest.mark.parametrize("channels", CHANNELS)
def test_brightness_and_contrast_for_any_channel_count(channels):
    x = image(channels)
    mean = x.mean() if channels != 3 else float(np.dot(x.reshape(-1, 3).mean(0), aug._LUMA))
    for op, expected in [
        (aug.adjust_brightness, x * 1.3),
        (aug.adjust_contrast, mean + 0.6 * (x - mean)),
    ]:
        out = op(x, 1.3 if op is aug.adjust_brightness else 0.6)
        assert out.shape == x.shape and out.dtype == np.uint8
        assert np.abs(out - np.clip(expected, 0, 255)).max() <= 1


@pytest.mark.parametrize("factor", [-0.2, -0.07, 0.05, 0.2, 0.5])
def test_hue_matches_torchvision(factor):
    x = colourful()
    diff = np.abs(aug.adjust_hue(x, factor).astype(int) - torchvision(x, TF.adjust_hue, factor))
    # Both shift H in 8-bit HSV (256 levels); PIL and OpenCV quantize it slightly differently.
    assert diff.mean() < 2.5 and np.percentile(diff, 99) <= 12, diff.mean()
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    for turn, colour in [(1 / 3, (0, 255, 0)), (-1 / 3, (0, 0, 255)), (0.5, (0, 255, 255))]:
        assert np.abs(aug.adjust_hue(red, turn)[0, 0].astype(int) - colour).max() <= 8


@pytest.mark.parametrize("channels", [1, 4, 13])
def test_rgb_only_ops_leave_other_images_alone(channels):
    x = image(channels)
    for op in (aug.adjust_saturation, aug.adjust_hue):
        assert op(x, 0.3) is x
    assert aug.to_grey(x) is x


def test_grey_is_luma():
    x = colourful()
    reference = A.Compose([A.ToGray(num_output_channels=3, p=1)])(image=x)["image"]
    np.testing.assert_array_equal(np.repeat(aug.to_grey(x)[:, :, None], 3, axis=2), reference)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.3, 2.0])
@pytest.mark.parametrize("channels", CHANNELS)
def test_blur_matches_albumentations_and_its_cap_is_exact_to_rounding(sigma, channels):
    x = image(channels)
    ours = aug.gaussian_blur(x, sigma)
    blur = A.GaussianBlur(blur_limit=0, sigma_limit=(sigma, sigma), p=1)
    np.testing.assert_array_equal(ours, A.Compose([blur])(image=x)["image"].reshape(x.shape))
    capped = aug.gaussian_blur(x, sigma, max_ksize=13)  # SimCLR's: 10% of 128 px
    assert np.abs(capped.astype(int) - ours).max() <= 1  # radius 6 instead of 7 at sigma 2


def test_noise_is_seeded_and_of_its_standard_deviation():
    x = np.full((64, 64, 4), 128, np.uint8)
    a, b = (aug.gaussian_noise(x, 0.1, random.Random(3)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert abs((a.astype(float) - 128).std() - 25.5) < 1.0


def test_color_jitter_of_a_grey_plane_equals_that_of_a_grey_rgb_image():
    """What lets segmentation jitter grey crops as one plane."""
    plane = image(1)[:, :, 0]
    rgb = np.repeat(plane[:, :, None], 3, axis=2)
    for seed in range(20):
        from_plane = aug.color_jitter(plane, random.Random(seed), 0.5, 0.5, 0.5, 0.25)
        from_rgb = aug.color_jitter(rgb, random.Random(seed), 0.5, 0.5, 0.5, 0.25)
        np.testing.assert_array_equal(np.repeat(from_plane[:, :, None], 3, axis=2), from_rgb)


@pytest.mark.parametrize("channels", [0, 1, 3, 4, 5])  # 0: a 2-D mask
def test_orient_matches_numpy(channels):
    yy, xx = np.mgrid[:6, :6]
    a = np.stack([(yy * 6 + xx + 7 * c) % 251 for c in range(max(channels, 1))], 2)
    a = a.astype(np.uint8)[:, :, 0] if channels == 0 else a.astype(np.uint8)
    for hflip in (False, True):
        for vflip in (False, True):
            for turns in range(4):
                b = a[:, ::-1] if hflip else a
                out = aug.orient(a, hflip, vflip, turns)
                assert out.shape == a.shape and out.flags.c_contiguous
                assert not np.shares_memory(out, a)
                np.testing.assert_array_equal(out, np.rot90(b[::-1] if vflip else b, turns))


def test_resized_crop_box_matches_torchvision_sampler():
    from torchvision.transforms import RandomResizedCrop

    rng = random.Random(0)
    torch.manual_seed(0)
    ours = np.array([aug.resized_crop_box(rng, 224, 200, (0.08, 1))[2:] for _ in range(4000)])
    theirs = np.array(
        [
            RandomResizedCrop.get_params(torch.empty(3, 224, 200), (0.08, 1.0), (3 / 4, 4 / 3))[2:]
            for _ in range(4000)
        ]
    )
    area = [b[:, 0] * b[:, 1] / (224 * 200) for b in (ours, theirs)]
    log_ratio = [np.log(b[:, 1] / b[:, 0]) for b in (ours, theirs)]
    assert (ours[:, 0] <= 224).all() and (ours[:, 1] <= 200).all()
    assert abs(area[0].mean() - area[1].mean()) < 0.02
    assert abs(area[0].std() - area[1].std()) < 0.02
    assert abs(log_ratio[0].mean() - log_ratio[1].mean()) < 0.02
    assert area[0].min() >= 0.07 and log_ratio[0].max() <= math.log(4 / 3) + 0.05


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5, 13])
def test_to_chw_and_resize_keep_channels(channels):
    x = image(channels)
    out = aug.to_chw(x, channels)
    assert out.is_contiguous() and torch.equal(out, torch.from_numpy(x).permute(2, 0, 1))
    assert torch.equal(aug.to_chw(x[:, :, 0], 3), torch.from_numpy(x[:, :, 0]).expand(3, -1, -1))
    assert aug.resize(x, 16, 12, cv2.INTER_LINEAR).shape == (12, 16, channels)


def test_check_image():
    assert aug.check_image(np.zeros((4, 5), np.uint8), 1).shape == (4, 5, 1)
    with pytest.raises(ValueError, match="uint8"):
        aug.check_image(np.zeros((4, 5, 3), np.float32), 3)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        aug.check_image(np.zeros((4, 5, 4), np.uint8), 3)
