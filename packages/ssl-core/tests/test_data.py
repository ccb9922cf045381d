"""Normalization of image batches: the ``image``/``views`` fields become normalized float,
nothing else."""

from __future__ import annotations

import torch

from ssl_core.data import ClassificationDataModule, ImageFolder, Images
from ssl_core.data.views import map_views


def normalize_batch(batch, mean, std):
    """What a datamodule of images does on the device."""
    return map_views(batch, lambda view: Images.normalize(view, mean, std))


MEAN, STD = torch.tensor([0.5, 0.0, 1.0]), torch.tensor([0.25, 1.0, 0.5])


def test_normalize_uint8_images():
    images = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    images[1] = 0
    out = normalize_batch({"image": images}, MEAN, STD)["image"]
    assert out.dtype == torch.float32 and out.shape == (2, 3, 4, 4)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([2.0, 1.0, 0.0]))
    assert torch.allclose(out[1, :, 0, 0], torch.tensor([-2.0, 0.0, -2.0]))


def test_normalize_nested_batch():
    views = [torch.full((2, 3, 4, 4), 128, dtype=torch.uint8) for _ in range(2)]
    labels, idx = torch.tensor([1, 2]), torch.tensor([0, 1])
    mask = torch.ones(2, 1, 4, 4, dtype=torch.uint8)  # a segmentation mask: never touched
    batch = {"labeled": {"views": views, "label": labels, "index": idx, "mask": mask}}
    out = normalize_batch(batch, MEAN, STD)["labeled"]
    assert isinstance(out["views"], list) and len(out["views"]) == 2
    expected = (128 / 255 - MEAN) / STD
    for view in out["views"]:
        assert view.dtype == torch.float32
        assert torch.allclose(view[0, :, 1, 1], expected)
    assert out["label"] is labels and out["index"] is idx and out["mask"] is mask


def test_float_and_non_image_tensors_pass_through():
    floats = torch.rand(2, 3, 4, 4)
    assert normalize_batch({"image": floats}, MEAN, STD)["image"] is floats
    single = torch.zeros(3, 4, 4, dtype=torch.uint8)  # not a batch
    assert normalize_batch({"image": single}, MEAN, STD)["image"] is single


def test_datamodule_normalizes_after_transfer():
    source = ImageFolder(mean=[0.5, 0.0, 1.0], std=[0.25, 1.0, 0.5])
    dm = ClassificationDataModule(source, root="unused")
    batch = {
        "views": [torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)],
        "label": torch.tensor([3]),
    }
    out = dm.on_after_batch_transfer(batch, 0)
    assert torch.allclose(out["views"][0][0, :, 0, 0], torch.tensor([2.0, 1.0, 0.0]))


def test_test_on_val_scores_the_validation_split_and_keeps_the_training_pool(fake_root):
    """``--data.test_on val``: test and predict score the validation split (where choices
    are made), the training pool and its labels as with the test set."""
    dm = ClassificationDataModule(ImageFolder(), root=str(fake_root), split="n10-seed0")
    dm.setup("predict")
    on_val = ClassificationDataModule(
        ImageFolder(), root=str(fake_root), split="n10-seed0", test_on="val"
    )
    on_val.setup("predict")
    assert on_val.test_samples == dm.val_samples and on_val.test_samples
    assert not {p for p, _ in on_val.test_samples} & {p for p, _ in dm.test_samples}
    assert on_val.pool_samples == dm.pool_samples
    assert on_val.predict_split_names == ["train", "test"]
    assert len(on_val.test_dataloader()[1].dataset) == len(dm.val_samples)
