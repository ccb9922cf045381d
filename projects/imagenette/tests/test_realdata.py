"""The team's real Imagenette copy (../shared/data/imagenette2-224, next to the repository):
counts, labels, the noisy-label file, and a short fit on real pictures."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from imagenette.dataset import WNIDS, Imagenette
from ssl_core.cli import cli

pytestmark = pytest.mark.realdata


def test_counts_and_labels(real_root):
    train, val = Imagenette(real_root, "train"), Imagenette(real_root, "val")
    assert (len(train), len(val)) == (9469, 3925)
    for dataset in (train, val):
        assert set(dataset.targets) == set(range(10))
        assert all(WNIDS[y] == p.split("/")[1] for p, y in dataset.samples)
    assert min(Counter(train.targets).values()) > 800
    with (real_root / "noisy_imagenette.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["path"] for r in rows} == set(train.paths) | set(val.paths)
    clean = {r["path"]: WNIDS.index(r["noisy_labels_0"]) for r in rows}
    assert all(clean[p] == y for p, y in train.samples + val.samples)
    noisy = Imagenette(real_root, "train", label_noise=25).targets
    flipped = sum(a != b for a, b in zip(train.targets, noisy, strict=True)) / len(train)
    assert 0.15 < flipped < 0.3  # about 25% of the labels differ


def test_short_fit_on_real_images(real_root, tiny_config, tmp_path):
    result = cli(
        [
            "--project",
            "imagenette",
            "fit",
            "--config",
            str(tiny_config),
            "--data.root",
            str(real_root),
            "--trainer.default_root_dir",
            str(tmp_path),
            "--data.image_size",
            "48",
            "--data.batch_size",
            "16",
            "--data.eval_batch_size",
            "32",
            "--trainer.limit_train_batches",
            "2",
            "--trainer.limit_val_batches",
            "2",
        ]
    )
    assert result.trainer.global_step == 2
    (metrics,) = tmp_path.rglob("metrics.csv")
    with metrics.open() as f:
        knn = [float(r["val/knn_top1"]) for r in csv.DictReader(f) if r.get("val/knn_top1")]
    assert len(knn) == 1 and 0.0 <= knn[0] <= 1.0
