"""ImagenetteDataModule on the fake dataset: batches, kNN loaders, label splits."""

from __future__ import annotations

import shutil

import pytest
import torch

from imagenette.datamodule import ImagenetteDataModule
from imagenette.dataset import Imagenette
from imagenette.download import DataNotFoundError
from ssl_core.splits import SplitMismatchError, make_split


def _datamodule(root, **kwargs) -> ImagenetteDataModule:
    kwargs = {"image_size": 32, "batch_size": 8, "eval_batch_size": 16, "num_workers": 0, **kwargs}
    dm = ImagenetteDataModule(root=str(root), download=False, **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_train_batches_are_views_labels_indices(fake_root):
    dm = _datamodule(fake_root)
    views, labels, idx = next(iter(dm.train_dataloader()))
    assert isinstance(views, list) and len(views) == 2
    assert all(v.shape == (8, 3, 32, 32) and v.dtype == torch.uint8 for v in views)
    assert labels.shape == (8,) and idx.shape == (8,)
    assert all(
        dm.train_set.targets[i] == y for i, y in zip(idx.tolist(), labels.tolist(), strict=True)
    )
    assert len(dm.train_dataloader()) == 60 // 8  # drop_last
    # On the device the views become normalized float.
    moved = dm.on_after_batch_transfer((views, labels, idx), 0)
    assert moved[0][0].dtype == torch.float32 and moved[0][0].min() < 0


def test_val_loaders_are_bank_then_queries(fake_root):
    dm = _datamodule(fake_root)
    bank, queries = dm.val_dataloader()
    assert len(bank.dataset) == 60 and len(queries.dataset) == 30
    assert bank.dataset.split == "train" and queries.dataset.split == "val"
    images, labels, _ = next(iter(queries))
    assert images.shape == (16, 3, 32, 32) and images.dtype == torch.uint8


def test_split_restricts_the_bank_to_labeled_images(fake_root, tmp_path):
    train = Imagenette(fake_root, "train")
    split = make_split("imagenette", train.paths, train.targets, fraction=0.5, seed=0)
    path = split.save(tmp_path / "frac0.50-seed0.json")
    dm = _datamodule(fake_root, split=str(path))
    bank = dm.val_dataloader()[0].dataset
    assert len(bank) == 30
    assert bank.samples == split.labeled
    assert len(dm.train_set) == 60  # self-supervised training still sees every image


def test_split_of_another_file_list_is_refused(fake_root, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(fake_root, other)
    next((other / "train" / "n01440764").iterdir()).unlink()  # one image fewer
    train = Imagenette(other, "train")
    path = make_split("imagenette", train.paths, train.targets, 0.5, 0).save(tmp_path / "s.json")
    with pytest.raises(SplitMismatchError, match="made from another dataset"):
        _datamodule(fake_root, split=str(path))


def test_missing_split_and_missing_data(fake_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="No label split"):
        _datamodule(fake_root, split=str(tmp_path / "nope.json"))
    with pytest.raises(DataNotFoundError, match="--data.root"):
        _datamodule(tmp_path / "empty")
