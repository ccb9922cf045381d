"""{{Name}}: the dataset on fake data, the datamodule's batches, one step through `train`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ssl_core.testing import fit_one_step, isolated_split_cache  # noqa: F401 (splits to tmp)
from {{name}} import PROJECT, {{Name}}, {{Name}}DataModule
from {{name}}.fake import make_fake

CHANNELS = {{channels}}


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return make_fake(tmp_path_factory.mktemp("{{name}}") / "data")


def test_dataset_lists_and_reads_the_fake_data(fake_root):
    source = {{Name}}()
    train = source.list_samples(fake_root, "train")
    assert len(train) == 32 and sum(mask is None for _, mask in train) == 16  # unlabeled
    train = [s for s in train if s[1] is not None]
    image = source.read(fake_root, train[0][0])
    mask = source.read_mask(fake_root, train[0][1])
    assert image.dtype.name == "uint8" and image.shape[2] == CHANNELS
    assert mask.shape == image.shape[:2] and set(mask.ravel().tolist()) <= {0, 1}


def test_datamodule_batches(fake_root):
    dm = {{Name}}DataModule(
        root=str(fake_root),
        split="frac0.50-seed0",
        train_on="semi",
        crop_size=32,
        batch_size=2,
        num_workers=0,
    )
    dm.setup("fit")
    assert dm.num_classes == 2 and dm.ignore_index == 255
    batch, *_ = next(iter(dm.train_dataloader()))
    labeled, unlabeled = batch["labeled"], batch["unlabeled"]
    assert labeled["image"].shape == (2, CHANNELS, 32, 32) and labeled["image"].dtype == torch.uint8
    assert labeled["mask"].shape == (2, 32, 32) and labeled["mask"].dtype == torch.int64
    assert len(unlabeled["views"]) == 3 and unlabeled["views"][2].shape == (2, CHANNELS, 32, 32)
    assert unlabeled["ignore"].shape == (2, 32, 32) and unlabeled["ignore"].dtype == torch.uint8
    val = next(iter(dm.val_dataloader()))
    assert val["image"].shape[:2] == (1, CHANNELS) and val["image"].dtype == torch.uint8
    assert val["mask"].shape == (1, *val["image"].shape[2:])
    seen = set(dm.val_dataloader().dataset.paths)
    assert not seen & {p for p, _ in dm.labeled_samples + dm.unlabeled_samples}
    maskless = {p for p, mask in dm.listing if mask is None}
    assert maskless <= {p for p, _ in dm.unlabeled_samples}  # never labeled or validated
    assert not maskless & (seen | {p for p, _ in dm.labeled_samples})
    moved = dm.on_after_batch_transfer(batch, 0)
    assert moved["labeled"]["image"].dtype == torch.float32
    assert torch.equal(moved["labeled"]["mask"], labeled["mask"])


@pytest.mark.parametrize("recipe", ["supervised-cpu", "fixmatch-cpu"])
def test_one_step_through_train(recipe, fake_root, tmp_path, monkeypatch):
    """ssl-core's recipes on this project's data and network (configs/data-cpu.yaml,
    model.yaml): every method of the task runs with no file of its own."""
    # `train` finds an installed project by its entry point; this one may not be yet
    monkeypatch.setattr("ssl_core.cli.resolve_project", lambda explicit=None: PROJECT)
    data = {"num_workers": 0, "batch_size": 2, "crop_size": 32}
    run = fit_one_step(recipe, fake_root, tmp_path, data)
    metrics = run.trainer.callback_metrics
    losses = [v.item() for k, v in metrics.items() if k.startswith("train/loss")]
    assert losses and all(math.isfinite(v) for v in losses)
