"""Jets through the generic data layer (a :class:`JetFiles` source, the :class:`Points`
modality): source, splits, batches of every train_on, normalization, bad jets, and a
predict run that writes logits and the signal class."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_core.data import BadDataError, ClassificationDataModule
from ssl_core.points import JetFiles, JetWeakStrongTransform, Points
from ssl_core.points.fake import write_fake_jet_files
from ssl_core.splits import LabelSplit, write_splits


def JetDataModule(source=None, max_particles=128, **kwargs) -> ClassificationDataModule:
    """The generic datamodule on jets, as a jets project's configs make it."""
    source = source if source is not None else JetFiles()
    return ClassificationDataModule(source=source, modality=Points(max_particles), **kwargs)


@pytest.fixture
def jet_root(tmp_path) -> Path:
    return write_fake_jet_files(tmp_path / "jets", per_class=40)


def test_source_lists_a_fixed_stratified_test_set(jet_root):
    source = JetFiles()
    train, test = source.list_samples(jet_root, "train"), source.list_samples(jet_root, "test")
    assert len(test) == 16 and sorted(t for _, t in test) == [0] * 8 + [1] * 8
    assert not {p for p, _ in train} & {p for p, _ in test} and len(train) == 64
    assert train[0][0].split(":")[0] in ("top.npz", "qcd.npz")
    assert JetFiles().list_samples(jet_root, "test") == test  # seeded: the same again
    assert JetFiles(test_seed=1).list_samples(jet_root, "test") != test
    assert source.read(jet_root, train[0][0]).shape[1] == 4


def points_of(view) -> tuple[torch.Tensor, torch.Tensor]:
    return view["points"], view["mask"]


@pytest.mark.parametrize("train_on", ["all", "labeled", "semi"])
def test_batches_of_every_train_on(jet_root, tmp_path, train_on):
    split = None if train_on == "all" else "frac0.50-seed0"
    source = JetFiles()
    source.splits_dir = tmp_path / "splits"
    dm = JetDataModule(
        source=source,
        root=str(jet_root),
        train_on=train_on,
        split=split,
        batch_size=4,
        eval_batch_size=16,
        num_workers=0,
        max_particles=32,
        unlabeled_transform=JetWeakStrongTransform() if train_on == "semi" else None,
    )
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    if train_on == "semi":
        batch = batch[0] if isinstance(batch, tuple) else batch
        assert set(batch) == {"labeled", "unlabeled"}
        assert (batch["unlabeled"]["label"] == -1).all()
        batch = batch["unlabeled"]
    views = batch["views"]
    assert len(views) == 2
    points, mask = points_of(views[0])
    assert points.shape[0] == 4 and points.shape[2] == 7 and mask.shape == points.shape[:2]
    assert points.shape[1] <= 32 and mask.any(1).all()
    moved = dm.on_after_batch_transfer(batch, 0)
    p = moved["views"][0]["points"]
    assert (p[~mask] == 0).all()  # padding stays zero
    bank, queries = dm.val_dataloader()
    q = next(iter(queries))
    assert set(q["image"]) == {"points", "mask"} and (q["label"] >= 0).all()
    assert not set(queries.dataset.paths) & set(dm.train_set.paths)


def test_normalization_uses_the_training_jets_statistics(jet_root):
    dm = JetDataModule(root=str(jet_root), batch_size=8, num_workers=0, eval_batch_size=200)
    dm.setup("fit")
    loader = dm.predict_dataloader()[0]
    batch = dm.on_after_batch_transfer(next(iter(loader)), 0)
    x, mask = batch["image"]["points"], batch["image"]["mask"]
    real = x[mask]
    # the train pool (validation left out) is most of the jets the statistics came from
    assert real.mean(0).abs().max() < 0.25 and (real.std(0) - 1).abs().max() < 0.25


def test_bad_jets_are_one_line_or_skipped_and_counted(jet_root):
    with np.load(jet_root / "top.npz") as data:
        arrays = dict(data)
    arrays["constituents"][:, 0, 0] = np.nan  # every top jet broken
    np.savez(jet_root / "top.npz", **arrays)
    dm = JetDataModule(root=str(jet_root), batch_size=80, num_workers=0)
    with pytest.raises(
        BadDataError, match=r"40 bad jets: top.npz:0 \(NaN or inf.*on_bad_file skip"
    ):
        dm.setup("fit")  # every row is checked at setup, not when a batch draws it
    dm = JetDataModule(root=str(jet_root), batch_size=80, num_workers=0, on_bad_file="skip")
    with pytest.warns(UserWarning, match="40 bad jets: .* left out"):
        dm.setup("fit")
    assert not any(p.startswith("top") for p in dm.train_set.paths + dm.bank_set.paths)
    assert not any(p.startswith("top") for p, _ in dm.val_samples + dm.test_samples)
    batch = next(iter(dm.train_dataloader()))
    assert "bad_files" not in batch and (batch["label"] == 0).all()


def test_excluded_class_leaves_training_not_the_test_set(jet_root):
    dm = JetDataModule(root=str(jet_root), exclude_classes=["top"], num_workers=0)
    dm.setup("fit")
    assert all(p.startswith("qcd.npz:") for p in dm.train_set.paths + dm.bank_set.paths)
    assert {t for _, t in dm.test_samples} == {0, 1}


def test_count_splits_name_jet_ids(jet_root, tmp_path):
    source = JetFiles()
    targeted = source.list_samples(jet_root, "train")
    written = write_splits(
        "jets",
        [p for p, _ in targeted],
        source.strata(jet_root, targeted),
        tmp_path / "splits",
        [0.5],
        [0],
        counts=[10],
    )
    names = sorted(Path(w).stem for w in written)
    assert "n10-seed0" in names
    labeled = LabelSplit.load(tmp_path / "splits" / "n10-seed0.json").labeled
    assert len(labeled) == 10 and all(p.split(":")[0] in ("top.npz", "qcd.npz") for p, _ in labeled)
    source.splits_dir = tmp_path / "splits"
    dm = JetDataModule(source=source, root=str(jet_root), split="n10-seed0", train_on="labeled",
                       batch_size=4, num_workers=0)  # fmt: skip
    dm.setup("fit")
    assert len(dm.labeled_set) == 10


def test_supervised_predict_writes_logits_and_the_signal_class(jet_root, tmp_path):
    from ssl_core.cli import cli
    from ssl_core.evaluate.run import evaluate

    config = tmp_path / "sup.yaml"
    config.write_text(
        f"""
seed_everything: 0
trainer: {{accelerator: cpu, max_steps: 3, logger: false, enable_checkpointing: false,
  enable_progress_bar: false, default_root_dir: {tmp_path}}}
model:
  class_path: ssl_core.methods.Supervised
  init_args:
    backbone:
      class_path: ssl_core.points.ParticleFlowNetwork
      init_args: {{phi_sizes: [16, 16], f_sizes: [16, 16]}}
    knn_k: 5
data:
  class_path: ssl_core.data.ClassificationDataModule
  init_args:
    source: ssl_core.points.JetFiles
    modality: {{class_path: ssl_core.points.Points, init_args: {{max_particles: 32}}}}
    root: {jet_root}
    train_on: labeled
    batch_size: 8
    eval_batch_size: 32
    num_workers: 0
"""
    )
    run = cli(["fit", "--config", str(config)])
    assert math.isfinite(run.trainer.callback_metrics["train/loss_step"].item())
    out = tmp_path / "out"
    model = run.model
    from ssl_core.embeddings import EmbeddingWriter

    writer = EmbeddingWriter(str(out / "embeddings"))
    run.trainer.callbacks.append(writer)
    run.trainer.predict(model, datamodule=run.datamodule, return_predictions=False)
    meta = json.loads((out / "embeddings" / "meta.json").read_text())
    assert meta["signal_class"] == 1 and meta["class_names"] == ["qcd", "top"]
    with np.load(out / "embeddings" / "test.npz") as data:
        assert data["logits"].shape == (16, 2) and data["ids"][0].startswith(("top", "qcd"))
    metrics = evaluate(out, umap=False, k=5)
    assert metrics["two_class_score"] == "classifier" and 0 <= metrics["roc_auc"] <= 1
    assert {"rejection_eff30", "rejection_eff50"} <= set(metrics)
    assert any("roc" in p for p in metrics["plots"])
