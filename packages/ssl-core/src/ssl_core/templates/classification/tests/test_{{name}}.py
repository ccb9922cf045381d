"""{{Name}}: the dataset on fake data, the datamodule's batches, one step through `train`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ssl_core.data import Images
from ssl_core.testing import fit_one_step, isolated_split_cache  # noqa: F401 (splits to tmp)
from {{name}} import PROJECT, {{Name}}, {{Name}}DataModule
from {{name}}.fake import make_fake


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return make_fake(tmp_path_factory.mktemp("{{name}}") / "data")


def test_dataset_lists_and_reads_the_fake_data(fake_root):
    source = {{Name}}()
    train = source.list_samples(fake_root, "train")
    assert len(train) == 8 * len(source.classes)
    assert {label for _, label in train} == set(range(len(source.classes)))
    everything = source.training_samples(fake_root)  # plus unlabeled/: no class
    assert [p for p, label in everything if label is None] == source.list_unlabeled(fake_root)
    assert len(source.list_unlabeled(fake_root)) == 20
    image = source.read(fake_root, train[0][0])
    assert image.dtype.name == "uint8" and image.shape[2] == source.channels


def test_datamodule_batches(fake_root):
    dm = {{Name}}DataModule(
        root=str(fake_root), split="all", modality=Images(32), batch_size=4, num_workers=0
    )
    dm.setup("fit")
    unlabeled = set({{Name}}().list_unlabeled(fake_root))
    assert unlabeled <= set(dm.train_set.paths)  # self-supervised: every image trains
    assert unlabeled <= set(dm.label_split.unlabeled)  # never labeled, validated or banked
    assert not unlabeled & (set(dm.bank_set.paths) | {p for p, _ in dm.val_samples})
    batch = next(iter(dm.train_dataloader()))
    assert len(batch["views"]) == 2 and batch["views"][0].shape == (4, {{channels}}, 32, 32)
    bank, queries = dm.val_dataloader()
    assert len(queries.dataset) > 0 and not set(queries.dataset.paths) & set(dm.train_set.paths)
    moved = dm.on_after_batch_transfer(batch, 0)
    assert moved["views"][0].dtype == torch.float32


@pytest.mark.parametrize("recipe", ["simclr-cpu", "fixmatch-cpu", "supcon-cpu"])
def test_one_step_through_train(recipe, fake_root, tmp_path, monkeypatch):
    """ssl-core's recipes on this project's data and network (configs/data-cpu.yaml,
    model.yaml): every method of the task runs with no file of its own."""
    # `train` finds an installed project by its entry point; this one may not be yet
    monkeypatch.setattr("ssl_core.cli.resolve_project", lambda explicit=None: PROJECT)
    data = {"num_workers": 0, "batch_size": 8, "modality.size": 32}
    run = fit_one_step(recipe, fake_root, tmp_path, data)
    assert math.isfinite(run.trainer.callback_metrics["train/loss_step"].item())
    assert "val/knn_top1" in run.trainer.callback_metrics
