"""Decoding (grayscale, RGBA) and the views of :mod:`ssl_core.transforms`, any channel count:
shapes, seeds, probabilities and (opt-in, ``-m slow``) statistics against lightly's."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import torch

from ssl_core.data import read_image as decode_image
from ssl_core.transforms import EvalTransform, SimCLRTransform, SimCLRView, WeakStrongTransform


def colourful(size: int) -> np.ndarray:
    """Smooth hue/brightness gradients: every hue, mid saturations."""
    y, x = np.mgrid[0:size, 0:size] / size
    hsv = np.stack([x * 255, 80 + 150 * y, 60 + 180 * (1 - x * y)], axis=-1).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


@pytest.fixture
def rgb() -> np.ndarray:
    """A 40x50 RGB image with distinct channels (red ramp, green constant, blue ramp)."""
    image = np.zeros((40, 50, 3), np.uint8)
    image[..., 0] = np.linspace(0, 255, 50, dtype=np.uint8)[None]
    image[..., 1] = 100
    image[..., 2] = np.linspace(255, 0, 40, dtype=np.uint8)[:, None]
    return image


def test_decode_rgb_png_is_rgb(tmp_path, rgb):
    cv2.imwrite(str(tmp_path / "x.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    decoded = decode_image(tmp_path / "x.png")
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, rgb)  # PNG is lossless: RGB order preserved


def test_decode_grayscale_jpeg_as_rgb(tmp_path):
    gray = np.random.default_rng(0).integers(0, 256, (30, 20), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "g.JPEG"), gray)
    assert cv2.imread(str(tmp_path / "g.JPEG"), cv2.IMREAD_UNCHANGED).ndim == 2  # a 1-channel file
    decoded = decode_image(tmp_path / "g.JPEG", channels=3)
    assert decoded.shape == (30, 20, 3)
    assert (decoded[..., 0] == decoded[..., 1]).all() and (decoded[..., 1] == decoded[..., 2]).all()
    assert decode_image(tmp_path / "g.JPEG", channels=1).shape == (30, 20, 1)


def test_decode_rgba_png(tmp_path, rgb):
    alpha = np.full((40, 50, 1), 7, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), np.concatenate([rgb[..., ::-1], alpha], axis=2))  # BGRA
    decoded = decode_image(tmp_path / "a.png", channels=4)
    assert decoded.shape == (40, 50, 4) and decoded.dtype == np.uint8
    assert (decoded[..., 3] == 7).all()
    np.testing.assert_array_equal(
        decode_image(tmp_path / "a.png", channels=3), rgb
    )  # alpha dropped
    with pytest.raises(OSError, match="has 3 channels, expected 4"):
        cv2.imwrite(str(tmp_path / "rgb.png"), rgb)
        decode_image(tmp_path / "rgb.png", channels=4)


def test_decode_rgba_png_keeps_rgba_order(tmp_path, rgb):
    alpha = np.full((40, 50, 1), 7, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), np.concatenate([rgb[..., ::-1], alpha], axis=2))
    np.testing.assert_array_equal(decode_image(tmp_path / "a.png", channels=4)[..., :3], rgb)


def test_decode_unreadable_file(tmp_path):
    (tmp_path / "bad.JPEG").write_bytes(b"not an image")
    with pytest.raises(OSError, match="Cannot decode"):
        decode_image(tmp_path / "bad.JPEG")


def test_simclr_transform_two_uint8_views(rgb):
    views = SimCLRTransform(size=24)(rgb)
    assert isinstance(views, list) and len(views) == 2
    for view in views:
        assert view.dtype == torch.uint8 and view.shape == (3, 24, 24) and view.is_contiguous()
    assert not torch.equal(views[0], views[1])  # independent augmentations
    assert len(SimCLRTransform(size=16, views=3)(rgb)) == 3


@pytest.mark.parametrize("channels", [1, 3, 4, 13])
def test_views_for_any_channel_count_depend_on_the_seed_alone(channels):
    image = np.random.default_rng(0).integers(0, 256, (40, 50, channels), dtype=np.uint8)
    for transform in (
        SimCLRTransform(
            24, channels, cj_prob=1.0, blur_prob=1.0, vflip_prob=0.5, rotate90_prob=0.5
        ),
        WeakStrongTransform(24, channels, weak_views=1, strong_views=1),
    ):
        transform.set_random_seed(5)
        views = transform(image)
        assert [(v.shape, v.dtype) for v in views] == [((channels, 24, 24), torch.uint8)] * 2
        transform(image)  # draws more: the seed alone decides
        transform.set_random_seed(5)
        assert all(torch.equal(a, b) for a, b in zip(views, transform(image), strict=True))
        transform.set_random_seed(6)
        assert not all(torch.equal(a, b) for a, b in zip(views, transform(image), strict=True))
    with pytest.raises(ValueError, match="uint8"):
        SimCLRTransform(24, channels + 1)(image)


def fraction(view: SimCLRView, image: np.ndarray, test, n: int = 2000) -> float:
    view.set_random_seed(1)
    return float(np.mean([test(view(image).permute(1, 2, 0).numpy()) for _ in range(n)]))


def test_probabilities():
    image = colourful(16)  # square: min_scale=1 always falls back to the whole image
    plain = dict(min_scale=1.0, cj_prob=0.0, gray_prob=0.0, blur_prob=0.0, hflip_prob=0.0)

    def is_gray(v):
        return (v[..., 0] == v[..., 1]).all() and (v[..., 1] == v[..., 2]).all()

    def changed(v):
        return (v != image).any()

    flipped = image[:, ::-1]
    for option, p, test in [
        ("gray_prob", 0.2, is_gray),
        ("hflip_prob", 0.5, lambda v: (v == flipped).all()),
        ("cj_prob", 0.8, changed),
    ]:
        assert abs(fraction(SimCLRView(16, **{**plain, option: p}), image, test) - p) < 0.05
    image = colourful(40)  # a 5-tap blur kernel (10% of the side); 16 px would get 1 tap
    blur = {**plain, "blur_prob": 0.5, "blur_sigma": (1.0, 2.0)}
    assert abs(fraction(SimCLRView(40, **blur), image, changed) - 0.5) < 0.05


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
    from PIL import Image

    image = colourful(64)
    random.seed(0)
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 (lightly's GaussianBlur draws from the global generator)
    ours = SimCLRTransform(size=32)
    ours.set_random_seed(0)
    lightly = LightlySimCLR(input_size=32, normalize=None)
    pil = Image.fromarray(image)
    n = 200
    ours_stats = view_stats([v for _ in range(n) for v in ours(image)])
    lightly_stats = view_stats([(v * 255).round() for _ in range(n) for v in lightly(pil)])
    # 400 views each: the sampling error is a few percent.
    np.testing.assert_allclose(ours_stats, lightly_stats, rtol=0.08)


def test_eval_transform_is_deterministic_center_crop(rgb):
    transform = EvalTransform(size=32)
    a, b = transform(rgb), transform(rgb)
    assert a.shape == (3, 32, 32) and a.dtype == torch.uint8
    assert torch.equal(a, b)
