"""ImagenetteDataModule on the fake dataset: batches, kNN loaders, label splits."""

from __future__ import annotations

import shutil

import pytest
import torch

from imagenette.datamodule import ImagenetteDataModule
from imagenette.dataset import Imagenette
from ssl_core.data import DataNotFoundError, Images
from ssl_core.splits import SplitMismatchError, make_split


def _datamodule(root, **kwargs) -> ImagenetteDataModule:
    kwargs = {
        "modality": Images(32),
        "batch_size": 8,
        "eval_batch_size": 16,
        "num_workers": 0,
        **kwargs,
    }
    dm = ImagenetteDataModule(root=str(root), download=False, **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def _listing(root) -> tuple[list[str], list[int]]:
    samples = Imagenette().list_samples(root, "train")
    return [p for p, _ in samples], [y for _, y in samples]


def test_train_batches_are_views_labels_indices(fake_root):
    dm = _datamodule(fake_root)
    # Self-supervised training sees every training image but the validation split's.
    assert len(dm.train_set) + len(dm.val_samples) == 60 and len(dm.val_samples) == 10
    batch = next(iter(dm.train_dataloader()))
    views, labels, idx = batch["views"], batch["label"], batch["index"]
    assert isinstance(views, list) and len(views) == 2
    assert all(v.shape == (8, 3, 32, 32) and v.dtype == torch.uint8 for v in views)
    assert labels.shape == (8,) and idx.shape == (8,)
    assert all(
        dm.train_set.targets[i] == y for i, y in zip(idx.tolist(), labels.tolist(), strict=True)
    )
    assert len(dm.train_dataloader()) == len(dm.train_set) // 8 == 6  # drop_last
    # On the device the views become normalized float; labels and indices stay as they are.
    moved = dm.on_after_batch_transfer(batch, 0)
    assert moved["views"][0].dtype == torch.float32 and moved["views"][0].min() < 0
    assert torch.equal(moved["label"], labels) and torch.equal(moved["index"], idx)


def test_val_loaders_are_bank_then_queries(fake_root):
    dm = _datamodule(fake_root)
    bank, queries = dm.val_dataloader()
    validation = {p for p, _ in dm.val_samples}
    assert len(bank.dataset) == 50 and len(queries.dataset) == 10
    assert set(queries.dataset.paths) == validation  # queries: the validation split
    assert len({p.split("/")[1] for p in validation}) == 10  # stratified: one per class
    assert not validation & set(bank.dataset.paths)
    assert all(p.startswith("train/") for p in bank.dataset.paths + queries.dataset.paths)
    batch = next(iter(queries))
    assert batch["image"].shape == (10, 3, 32, 32) and batch["image"].dtype == torch.uint8
    assert "views" not in batch
    # The test set (Imagenette's val/) is read by `train test` only.
    test_bank, test = dm.test_dataloader()
    assert test_bank.dataset.samples == bank.dataset.samples
    assert len(test.dataset) == 30 and all(p.startswith("val/") for p in test.dataset.paths)


def test_split_restricts_the_bank_to_labeled_images(fake_root, tmp_path):
    paths, labels = _listing(fake_root)
    split = make_split("imagenette", paths, labels, fraction=0.5, seed=0)
    path = split.save(tmp_path / "frac0.50-seed0.json")
    dm = _datamodule(fake_root, split=str(path))
    bank = dm.val_dataloader()[0].dataset
    assert len(bank) == 25  # half of the 50 non-validation images
    assert bank.samples == split.labeled
    assert [p for p, _ in dm.val_samples] == split.validation
    assert len(dm.train_set) == 50  # self-supervised training still sees every image
    assert not set(dm.train_set.paths) & set(split.validation)


def test_split_of_another_file_list_is_refused(fake_root, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(fake_root, other)
    next((other / "train" / "n01440764").iterdir()).unlink()  # one image fewer
    paths, labels = _listing(other)
    path = make_split("imagenette", paths, labels, 0.5, 0).save(tmp_path / "s.json")
    with pytest.raises(SplitMismatchError, match="made from another dataset"):
        _datamodule(fake_root, split=str(path))


def test_missing_split_and_missing_data(fake_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="No label split"):
        _datamodule(fake_root, split=str(tmp_path / "nope.json"))
    with pytest.raises(FileNotFoundError, match="No label split 'nope'.*frac<F>-seed<S>"):
        _datamodule(fake_root, split="nope")
    with pytest.raises(DataNotFoundError, match="--data.root"):
        _datamodule(tmp_path / "empty")
