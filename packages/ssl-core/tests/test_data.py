"""normalize_batch: uint8 images anywhere in a batch become normalized float."""

from __future__ import annotations

import torch

from ssl_core.data import ViewsDataModule, normalize_batch

MEAN, STD = torch.tensor([0.5, 0.0, 1.0]), torch.tensor([0.25, 1.0, 0.5])


def test_normalize_uint8_images():
    images = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    images[1] = 0
    out = normalize_batch(images, MEAN, STD)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 4, 4)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([2.0, 1.0, 0.0]))
    assert torch.allclose(out[1, :, 0, 0], torch.tensor([-2.0, 0.0, -2.0]))


def test_normalize_nested_batch():
    views = [torch.full((2, 3, 4, 4), 128, dtype=torch.uint8) for _ in range(2)]
    labels, idx = torch.tensor([1, 2]), torch.tensor([0, 1])
    batch = (views, labels, idx)
    out = normalize_batch(batch, MEAN, STD)
    assert isinstance(out, tuple) and isinstance(out[0], list) and len(out[0]) == 2
    expected = (128 / 255 - MEAN) / STD
    for view in out[0]:
        assert view.dtype == torch.float32
        assert torch.allclose(view[0, :, 1, 1], expected)
    assert out[1] is labels and out[2] is idx  # labels and indices untouched
    assert normalize_batch({"x": views[0]}, MEAN, STD)["x"].dtype == torch.float32


def test_float_and_non_image_tensors_pass_through():
    floats = torch.rand(2, 3, 4, 4)
    assert normalize_batch(floats, MEAN, STD) is floats
    single = torch.zeros(3, 4, 4, dtype=torch.uint8)  # not a batch
    assert normalize_batch(single, MEAN, STD) is single


def test_datamodule_normalizes_after_transfer():
    dm = ViewsDataModule(mean=[0.5, 0.0, 1.0], std=[0.25, 1.0, 0.5])
    batch = ([torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)], torch.tensor([3]))
    out = dm.on_after_batch_transfer(batch, 0)
    assert torch.allclose(out[0][0][0, :, 0, 0], torch.tensor([2.0, 1.0, 0.0]))
