"""{{Name}}: the source on fake series, the datamodule's padded batches, one step through `train`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ssl_core.testing import fit_one_step, isolated_split_cache  # noqa: F401 (splits to tmp)
from {{name}} import {{Name}}, {{Name}}DataModule
from {{name}}.dataset import DATASET
from {{name}}.fake import CLASSES, DIMENSIONS, make_fake

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return make_fake(tmp_path_factory.mktemp("{{name}}") / "data")


def test_source_lists_and_reads_the_fake_series(fake_root):
    source = {{Name}}()
    train = source.list_samples(fake_root, "train")
    assert len(train) == 12 * len(CLASSES)
    assert {label for _, label in train} == set(range(len(CLASSES)))
    assert train[0][0].startswith(f"{DATASET}_TRAIN.ts:")
    assert len(source.list_samples(fake_root, "test")) == 4 * len(CLASSES)
    series = source.read(fake_root, train[0][0])
    assert series.shape[0] == DIMENSIONS == source.channels and series.dtype.name == "float32"


def test_datamodule_batches_are_padded_views(fake_root):
    dm = {{Name}}DataModule(root=str(fake_root), batch_size=8)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    view = batch["views"][0]
    assert len(batch["views"]) == 2 and view["series"].shape[:2] == (8, DIMENSIONS)
    assert view["mask"].shape == (8, view["series"].shape[2])
    moved = dm.on_after_batch_transfer(batch, 0)
    assert (moved["views"][0]["series"][~view["mask"][:, None, :].expand_as(view["series"])] == 0).all()


def test_one_step_through_train(fake_root, tmp_path):
    run = fit_one_step(CONFIGS / "simclr-cpu.yaml", fake_root, tmp_path, {"batch_size": 8})
    assert math.isfinite(run.trainer.callback_metrics["train/loss_step"].item())
    assert "val/knn_top1" in run.trainer.callback_metrics
