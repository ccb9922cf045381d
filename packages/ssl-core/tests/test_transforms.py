"""Decoding (grayscale, RGBA) and SimCLR views on albumentations, any channel count."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from ssl_core.data import read_image as decode_image
from ssl_core.transforms import EvalTransform, SimCLRTransform, simclr_pipeline


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


@pytest.mark.parametrize("channels", [1, 4])
def test_simclr_pipeline_any_channels(channels):
    image = np.random.default_rng(0).integers(0, 256, (40, 50, channels), dtype=np.uint8)
    pipeline = simclr_pipeline(
        size=24, channels=channels, blur_prob=1.0, cj_prob=1.0, vflip_prob=0.5, rotate90_prob=0.5
    )
    out = pipeline(image=image)["image"]
    assert out.dtype == np.uint8
    assert out.reshape(24, 24, -1).shape == (24, 24, channels)
    views = SimCLRTransform(size=24, channels=channels)(image)
    assert [v.shape for v in views] == [(channels, 24, 24)] * 2


def test_eval_transform_is_deterministic_center_crop(rgb):
    transform = EvalTransform(size=32)
    a, b = transform(rgb), transform(rgb)
    assert a.shape == (3, 32, 32) and a.dtype == torch.uint8
    assert torch.equal(a, b)
