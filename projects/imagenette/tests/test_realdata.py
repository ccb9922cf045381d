"""The team's real Imagenette copy (../shared/data/imagenette2-224, next to the repository):
counts, labels, the noisy-label file, and a short fit on real pictures."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from imagenette.dataset import WNIDS, Imagenette
from ssl_core.cli import cli
from ssl_core.splits import make_split, make_validation

pytestmark = pytest.mark.realdata


def test_counts_and_labels(real_root):
    source = Imagenette()
    train, test = source.list_samples(real_root, "train"), source.list_samples(real_root, "test")
    assert (len(train), len(test)) == (9469, 3925)
    for samples in (train, test):
        assert {y for _, y in samples} == set(range(10))
        assert all(WNIDS[y] == p.split("/")[1] for p, y in samples)
    assert min(Counter(y for _, y in train).values()) > 800
    with (real_root / "noisy_imagenette.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["path"] for r in rows} == {p for p, _ in train + test}
    clean = {r["path"]: WNIDS.index(r["noisy_labels_0"]) for r in rows}
    assert all(clean[p] == y for p, y in train + test)
    noisy = Imagenette(label_noise=25).relabel(real_root, train)
    flipped = sum(a != b for a, b in zip(train, noisy, strict=True)) / len(train)
    assert 0.15 < flipped < 0.3  # about 25% of the labels differ
    # The validation split: 10% of train, stratified, the same for every label split.
    paths, labels = [p for p, _ in train], [y for _, y in train]
    validation = make_validation(paths, labels)
    assert len(validation) == round(0.1 * len(train)) == 947
    per_class = Counter(p.split("/")[1] for p in validation)
    assert len(per_class) == 10 and min(per_class.values()) > 80
    split = make_split("imagenette", paths, labels, fraction=0.1, seed=0)
    assert split.validation == validation
    assert not set(validation) & ({p for p, _ in split.labeled} | set(split.unlabeled))


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
            "--data.modality.size",
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
