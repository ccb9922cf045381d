"""Segmentation through the real command lines, on fake nuclei in the default layout
(:func:`ssl_core.segmentation.data.make_fake_segmentation`): a ``fast_dev_run`` of every
method with 1 and 4 input channels; ``train fit`` -> ``train predict`` (one PNG of the
image's size per test image) -> ``evaluate RUN`` (metrics that agree with the PNGs)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ssl_core.cli import cli
from ssl_core.evaluate import main as evaluate_main
from ssl_core.segmentation.data import make_fake_segmentation

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIG = Path(__file__).resolve().parent / "configs" / "segmentation-tiny.yaml"
SEMI = ("MeanTeacherSegmentation", "FixMatchSegmentation", "UniMatch")


@pytest.fixture(scope="module")
def fake_roots(tmp_path_factory) -> dict[int, Path]:
    """Fake nuclei with 1 and 4 channels: 12 train, 3 test images each (sizes vary)."""
    base = tmp_path_factory.mktemp("seg")
    return {
        c: make_fake_segmentation(base / f"c{c}", {"train": 12, "test": 3}, size=40, channels=c)
        for c in (1, 4)
    }


def _args(root: Path, run: Path, channels: int, *extra: str) -> list[str]:
    return [
        "--config",
        str(CONFIG),
        "--data.root",
        str(root),
        "--trainer.default_root_dir",
        str(run),
        "--model.in_channels",
        str(channels),
        "--data.source.init_args.channels",
        str(channels),
        *extra,
    ]


@pytest.mark.parametrize("channels", [1, 4])
@pytest.mark.parametrize("method", ["SupervisedSegmentation", *SEMI])
def test_fast_dev_run_of_every_method(fake_roots, tmp_path, method, channels):
    extra = ["--model", f"ssl_core.segmentation.{method}", "--trainer.fast_dev_run", "1"]
    if method in SEMI:
        extra += ["--data.train_on", "semi", "--data.split", "frac0.50-seed0"]
    run = cli(["fit", *_args(fake_roots[channels], tmp_path, channels, *extra)])
    assert type(run.model).__name__ == method
    assert run.model.hparams.encoder_name == "tu-mobilenetv3_small_050"  # the tiny config's
    assert run.model.network.encoder.model.conv_stem.in_channels == channels
    metrics = run.trainer.callback_metrics
    assert "train/loss" in metrics and "val/iou" in metrics and "val/image_iou" in metrics
    if method in ("FixMatchSegmentation", "UniMatch"):
        assert 0 <= float(metrics["train/mask_ratio"]) <= 1


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (["--model.num_classes", "3"], "model.num_classes is 3 but the data has 2 classes"),
        (["--model.in_channels", "3"], "model.in_channels is 3 but the data has 1 channels"),
    ],
)
def test_settings_the_data_contradicts_are_one_line(fake_roots, tmp_path, setting, message):
    """The network's classes and channels are checked against the data before anything
    is written (the tiny config leaves num_classes to the data)."""
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        cli(["fit", *_args(fake_roots[1], run, 1, *setting, "--trainer.fast_dev_run", "1")])
    assert message in str(exit_info.value.code) and "\n" not in str(exit_info.value.code)
    assert not run.exists()


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_fit_predict_evaluate(fake_roots, tmp_path):
    root, run = fake_roots[1], tmp_path / "run"
    args = _args(root, run, 1)
    cli(
        [
            "fit",
            *args,
            "--trainer.max_epochs",
            "1",
            "--trainer.limit_train_batches",
            "2",
            "--trainer.enable_checkpointing",
            "true",
        ]
    )
    metrics_csv = next(run.rglob("metrics.csv"))
    assert "val/iou" in metrics_csv.read_text().splitlines()[0]
    ckpt = next(run.rglob("*.ckpt"))
    cli(["predict", *args, "--ckpt_path", str(ckpt)])

    masks = run / "masks"
    images = sorted((root / "test" / "images").glob("*.png"))
    written = sorted(masks.glob("*.png"))
    assert [p.name for p in written] == [p.name for p in images]  # one PNG per test image
    for image, mask in zip(images, written, strict=True):
        pred = _read(mask)
        assert pred.shape == _read(image).shape[:2] and pred.dtype == np.uint8
        assert set(np.unique(pred)) <= {0, 255}  # binary: foreground 255
    index = json.loads((masks / "index.json").read_text())
    assert index["complete"] and index["checkpoint"] == str(ckpt)
    assert [m["id"] for m in index["masks"]] == [p.stem for p in images]

    evaluate_main([str(run), "--no-umap", "--metrics-csv", str(metrics_csv)])
    result = json.loads((run / "metrics.json").read_text())
    tp = fp = fn = 0  # the metrics, by hand from the PNGs and the source masks
    per_image = []
    for image, mask in zip(images, written, strict=True):
        pred = _read(mask) > 0
        truth = _read(root / "test" / "masks" / image.name) > 0
        a, b, c = (pred & truth).sum(), (pred & ~truth).sum(), (~pred & truth).sum()
        tp, fp, fn = tp + a, fp + b, fn + c
        per_image.append(a / (a + b + c) if a + b + c else 1.0)
    assert result["iou"] == pytest.approx(tp / (tp + fp + fn))
    assert result["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert result["image_iou"] == pytest.approx(np.mean(per_image))
    assert [r["iou"] for r in result["per_image"]] == pytest.approx(per_image)
    assert (run / "plots" / "best_worst.png").stat().st_size > 10_000
    assert (run / "plots" / "training_curves.png").is_file() and (run / "report.md").is_file()
