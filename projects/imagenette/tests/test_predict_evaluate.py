"""fit -> predict -> evaluate on a tiny fake Imagenette: the real commands, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from imagenette import Imagenette
from imagenette.fake import make_fake_imagenette
from ssl_core.cli import main as train
from ssl_core.evaluate import main as evaluate
from ssl_core.splits import make_split, make_validation

TINY = """\
seed_everything: 0
trainer:
  accelerator: cpu
  devices: 1
  max_epochs: 1
  limit_train_batches: 2
  limit_val_batches: 0
  enable_progress_bar: false
  enable_model_summary: false
model:
  class_path: ssl_core.methods.SimCLR
  init_args:
    backbone: {class_path: ssl_core.backbones.Backbone, init_args: {name: resnet18}}
    projection_dim: 4
    hidden_dim: 32
    optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.1, momentum: 0.9}}
data:
  class_path: imagenette.ImagenetteDataModule
  init_args: {modality: {class_path: ssl_core.data.Images, init_args: {size: 32}}, batch_size: 8, eval_batch_size: 8, num_workers: 0, download: false}
"""
HELD_OUT = "n03888257"  # parachute, label 9


def _listing(root, split: str = "train") -> tuple[list[str], list[int]]:
    samples = Imagenette().list_samples(root, split)
    return [p for p, _ in samples], [y for _, y in samples]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Fake data, a tiny config and a checkpoint fitted with one class held out."""
    tmp = tmp_path_factory.mktemp("chain")
    data = make_fake_imagenette(tmp / "data", train_per_class=4, val_per_class=2, size=40)
    config = tmp / "tiny.yaml"
    config.write_text(TINY)
    run = tmp / "run"
    common = [
        "--config",
        str(config),
        "--data.root",
        str(data),
        "--trainer.default_root_dir",
        str(run),
    ]
    train(["--project", "imagenette", "fit", *common, f"--data.exclude_classes=[{HELD_OUT}]"])
    ckpt = next(run.rglob("*.ckpt"))
    return {"data": data, "config": config, "ckpt": ckpt, "run": run, "common": common}


def predict(fitted, out, *extra):
    args = [
        "--config",
        str(fitted["config"]),
        "--data.root",
        str(fitted["data"]),
        "--trainer.default_root_dir",
        str(out),
        "--ckpt_path",
        str(fitted["ckpt"]),
    ]
    train(["--project", "imagenette", "predict", *args, *extra])
    return out / "embeddings"


def test_predict_then_evaluate(fitted, tmp_path):
    emb = predict(
        fitted, fitted["run"], f"--data.exclude_classes=[{HELD_OUT}]", "--data.shift=noise:0.2"
    )
    meta = json.loads((emb / "meta.json").read_text())
    assert meta["checkpoint"] == str(fitted["ckpt"])
    assert meta["held_out_labels"] == [9] and meta["exclude_classes"] == [HELD_OUT]
    assert meta["shift"] == "noise:0.2" and meta["class_names"][9] == "parachute"
    assert "ImagenetteDataModule" in (emb / "config.yaml").read_text()
    assert meta["splits"]["train"]["projection_dim"] == 4

    train_rows, test_rows = np.load(emb / "train.npz"), np.load(emb / "test.npz")
    # Every training image outside the validation split once, in dataset order; the
    # validation split (one image per class of the 4) is never written as training rows.
    paths, labels = _listing(fitted["data"])
    validation = set(make_validation(paths, labels))
    assert len(validation) == 10
    listing = Imagenette().list_samples(fitted["data"], "train")
    expected = [(p, y) for p, y in listing if p not in validation and y != 9]
    assert train_rows["ids"].tolist() == [p for p, _ in expected]
    assert train_rows["labels"].tolist() == [y for _, y in expected]
    assert train_rows["features"].shape == (27, 512) and train_rows["labeled"].all()
    test_paths, _ = _listing(fitted["data"], "test")
    assert test_rows["ids"].tolist() == test_paths and len(test_paths) == 20  # 10 classes
    shifted = np.load(emb / "test_shifted.npz")
    assert shifted["ids"].tolist() == test_rows["ids"].tolist()
    assert not np.allclose(shifted["features"], test_rows["features"])
    table = pd.read_csv(emb / "test.csv")
    assert len(table) == 20 and {"id", "label", "class_name", "proj_3"} <= set(table.columns)

    evaluate([str(fitted["run"]), "--no-umap", "--k", "5"])
    metrics = json.loads((fitted["run"] / "metrics.json").read_text())
    for key in (
        "knn_top1",
        "knn_top5",
        "linear_top1",
        "kmeans_nmi",
        "kmeans_ari",
        "anomaly_auroc",
        "knn_top1_shifted",
        "shift_auroc",
    ):
        assert key in metrics, key
        assert metrics[key] is None or np.isfinite(metrics[key])
    assert 0 <= metrics["knn_top1"] <= 1 and metrics["num_test_in_distribution"] == 18
    plots = {p.name for p in (fitted["run"] / "plots").glob("*.png")}
    assert {"corner.png", "knn_confusion.png", "anomaly_roc.png", "training_curves.png"} <= plots
    assert (fitted["run"] / "report.md").is_file()


@pytest.mark.slow
def test_workers_and_uneven_batches_keep_order(fitted, tmp_path):
    """Two workers, a last batch of 2: the same rows, in the same order, as one process."""
    ref = np.load(predict(fitted, tmp_path / "a", "--data.eval_batch_size=8") / "test.npz")
    got = np.load(
        predict(fitted, tmp_path / "b", "--data.eval_batch_size=6", "--data.num_workers=2")
        / "test.npz"
    )
    assert got["ids"].tolist() == ref["ids"].tolist()
    np.testing.assert_allclose(got["features"], ref["features"], atol=1e-4)


@pytest.mark.slow
def test_label_split_marks_labeled_rows(fitted, tmp_path):
    split = make_split("imagenette", *_listing(fitted["data"]), fraction=0.3, seed=0)
    path = split.save(tmp_path / "frac0.30-seed0.json")
    emb = predict(fitted, tmp_path / "run", f"--data.split={path}")
    rows = np.load(emb / "train.npz")
    labeled = {p for p, _ in split.labeled}
    assert rows["labeled"].tolist() == [p in labeled for p in rows["ids"]]
    meta = json.loads((emb / "meta.json").read_text())
    assert meta["label_split"] == str(path) and meta["label_split_fraction"] == 0.3
    evaluate([str(tmp_path / "run"), "--no-umap", "--k", "5"])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["num_fit"] == int(rows["labeled"].sum())
    assert metrics["labelprop_pool_top1"] is not None


def test_bad_shift_is_refused_early(fitted, tmp_path):
    with pytest.raises((SystemExit, ValueError)):
        predict(fitted, tmp_path, "--data.shift=fog:1")


def test_evaluate_without_predict_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="train predict"):
        evaluate([str(tmp_path)])
