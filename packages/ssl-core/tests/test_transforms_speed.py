"""The fast SimCLR view (:class:`ssl_core.transforms.SimCLRView`) against references.

Its hand-written colour ops are compared with torchvision's on PIL images (what lightly's
``SimCLRTransform`` runs), its random crop with torchvision's sampler, its probabilities
with their nominal values, and (opt-in, ``-m slow``) its output statistics with
lightly's and its speed with the albumentations pipeline's. Small synthetic images:
a few seconds without the slow tests.
"""

from __future__ import annotations

import math
import random
import time

import cv2
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from ssl_core.transforms import (
    ImageTransform,
    SimCLRTransform,
    SimCLRView,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    simclr_pipeline,
)


def colourful(size: int = 48, seed: int = 0) -> np.ndarray:
    """Smooth hue/brightness gradients plus noise: every hue, mid saturations."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    hsv = np.stack([x * 255, 80 + 150 * y, 60 + 180 * (1 - x * y)], axis=-1)
    hsv += rng.normal(0, 6, hsv.shape)
    hsv = np.clip(hsv, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


def torchvision_op(image: np.ndarray, op, factor: float) -> np.ndarray:
    return np.asarray(op(Image.fromarray(image), factor)).astype(int)


@pytest.mark.parametrize("factor", [0.2, 0.6, 1.0, 1.4, 1.8])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (adjust_brightness, TF.adjust_brightness),
        (adjust_contrast, TF.adjust_contrast),
        (adjust_saturation, TF.adjust_saturation),
    ],
)
def test_colour_ops_match_torchvision(ours, theirs, factor):
    image = colourful()
    diff = np.abs(ours(image, factor).astype(int) - torchvision_op(image, theirs, factor))
    # Rounding only (PIL rounds the contrast mean to an integer first).
    assert diff.max() <= 2, (diff.max(), diff.mean())
    assert diff.mean() < 0.6


@pytest.mark.parametrize("factor", [-0.2, -0.07, 0.05, 0.2, 0.5])
def test_hue_matches_torchvision(factor):
    image = colourful()
    diff = np.abs(
        adjust_hue(image, factor).astype(int) - torchvision_op(image, TF.adjust_hue, factor)
    )
    # Both shift H in 8-bit HSV; PIL and OpenCV quantize hue slightly differently.
    assert diff.mean() < 2.5, diff.mean()
    assert np.percentile(diff, 99) <= 12


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(1 / 3, (0, 255, 0)), (-1 / 3, (0, 0, 255)), (0.5, (0, 255, 255)), (1 / 6, (255, 255, 0))],
)
def test_hue_of_known_colour(factor, expected):
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    out = adjust_hue(red, factor)[0, 0].astype(int)
    assert np.abs(out - expected).max() <= 8, out


def test_truncated_blur_kernel_is_exact_to_rounding():
    image = colourful(64)
    view = SimCLRView(128)
    for sigma in np.linspace(0.1, 2.0, 20):
        full = cv2.getGaussianKernel(view.blur_kernel, sigma, cv2.CV_32F)
        reference = cv2.sepFilter2D(image, -1, full, full)
        view.blur_sigma = (sigma, sigma)
        assert np.abs(view.blur(image).astype(int) - reference).max() <= 1, sigma


def test_crop_box_matches_torchvision_sampler():
    from torchvision.transforms import RandomResizedCrop

    random.seed(0)
    torch.manual_seed(0)
    view = SimCLRView(128)
    ours = np.array([view.crop_box(224, 200)[2:] for _ in range(4000)], dtype=float)
    theirs = np.array(
        [
            RandomResizedCrop.get_params(torch.empty(3, 224, 200), (0.08, 1.0), (3 / 4, 4 / 3))[2:]
            for _ in range(4000)
        ],
        dtype=float,
    )
    for boxes in (ours, theirs):
        assert (boxes[:, 0] <= 224).all() and (boxes[:, 1] <= 200).all()
    area = [b[:, 0] * b[:, 1] / (224 * 200) for b in (ours, theirs)]
    log_ratio = [np.log(b[:, 1] / b[:, 0]) for b in (ours, theirs)]
    assert abs(area[0].mean() - area[1].mean()) < 0.02
    assert abs(area[0].std() - area[1].std()) < 0.02
    assert abs(log_ratio[0].mean() - log_ratio[1].mean()) < 0.02
    assert area[0].min() >= 0.07 and log_ratio[0].max() <= math.log(4 / 3) + 0.05


def fraction(view: SimCLRView, image: np.ndarray, test, n: int = 2000) -> float:
    random.seed(1)
    return float(np.mean([test(view(image).permute(1, 2, 0).numpy()) for _ in range(n)]))


def test_probabilities():
    image = colourful(16)  # square: min_scale=1 always falls back to the whole image
    plain = dict(min_scale=1.0, cj_prob=0.0, gray_prob=0.0, blur_prob=0.0, hflip_prob=0.0)

    def is_gray(v):
        return (v[..., 0] == v[..., 1]).all() and (v[..., 1] == v[..., 2]).all()

    assert abs(fraction(SimCLRView(16, **{**plain, "gray_prob": 0.2}), image, is_gray) - 0.2) < 0.04
    flipped = image[:, ::-1]
    assert (
        abs(
            fraction(
                SimCLRView(16, **{**plain, "hflip_prob": 0.5}),
                image,
                lambda v: (v == flipped).all(),
            )
            - 0.5
        )
        < 0.05
    )
    assert (
        abs(
            fraction(
                SimCLRView(16, **{**plain, "cj_prob": 0.8}), image, lambda v: (v != image).any()
            )
            - 0.8
        )
        < 0.04
    )
    image = colourful(40)  # a 5-tap blur kernel (10% of the side); 16 px would get 1 tap
    blur = {**plain, "blur_prob": 0.5, "blur_sigma": (1.0, 2.0)}
    assert abs(fraction(SimCLRView(40, **blur), image, lambda v: (v != image).any()) - 0.5) < 0.05


def view_stats(views: list[torch.Tensor]) -> np.ndarray:
    """Mean brightness, contrast (std) and colourfulness (max - min channel) of views."""
    v = torch.stack(views).double()
    return np.array(
        [
            v.mean().item(),
            v.flatten(1).std(dim=1).mean().item(),
            (v.amax(1) - v.amin(1)).mean().item(),
        ]
    )


@pytest.mark.slow  # lightly takes ~7 ms per image even at 32 px: ~10 s on a busy machine
def test_output_statistics_match_lightly():
    from lightly.transforms import SimCLRTransform as LightlySimCLR

    image = colourful(64)
    random.seed(0)
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 (lightly's GaussianBlur draws from the global generator)
    ours = SimCLRTransform(size=32)
    lightly = LightlySimCLR(input_size=32, normalize=None)
    pil = Image.fromarray(image)
    n = 200
    ours_stats = view_stats([v for _ in range(n) for v in ours(image)])
    lightly_stats = view_stats([(v * 255).round() for _ in range(n) for v in lightly(pil)])
    # 400 views each: the sampling error is a few percent.
    np.testing.assert_allclose(ours_stats, lightly_stats, rtol=0.08)


def test_fast_and_albumentations_paths_agree_on_shapes():
    image = colourful(40)
    for fast in (True, False):
        views = SimCLRTransform(size=24, fast=fast)(image)
        assert [(v.shape, v.dtype) for v in views] == [((3, 24, 24), torch.uint8)] * 2
    gray = SimCLRTransform(size=24, channels=1)(image[..., :1])  # albumentations path
    assert gray[0].shape == (1, 24, 24)


@pytest.mark.slow
def test_fast_view_is_faster_than_albumentations():
    image = colourful(224)
    fast, slow = SimCLRView(128), ImageTransform(simclr_pipeline(128))

    def per_view(f) -> float:
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(50):
                f(image)
            best = min(best, (time.perf_counter() - start) / 50)
        return best

    assert per_view(fast) * 1.5 < per_view(slow)
