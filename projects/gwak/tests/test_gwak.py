"""gwak on a tiny generated set (8 training and 6 test windows per class) under a
temporary $SSL_CORE_CACHE: the source's listing, the datamodule's batches, and the CLI
from fit to evaluate's anomaly AUROC and efficiency-vs-SNR plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gwak import GWAK, TRAIN_CLASSES, GWAKDataModule
from gwak.figures import main as main_figures
from gwak.figures import plot_embedding_snr
from gwak.strain import CLASSES as GWAK_CLASSES
from ssl_core.cli import main

TINY = ["--data.n_train", "8", "--data.n_test", "6", "--data.batch_size", "8"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CORE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_source_lists_training_classes_and_every_test_class(cache):
    source = GWAK(n_train=8, n_test=6)
    assert source.default_root.parent == cache / "gwak"
    root = source.prepare()
    assert root == source.default_root and (root / "config.json").is_file()
    train = source.list_samples(root, "train")
    test = source.list_samples(root, "test")
    assert {GWAK_CLASSES[t] for _, t in train} == set(TRAIN_CLASSES)
    assert len(train) == 8 * len(TRAIN_CLASSES) and len(test) == 6 * len(GWAK_CLASSES)
    assert all(int(p.rsplit(":", 1)[1]) < 8 for p, _ in train)
    assert all(int(p.rsplit(":", 1)[1]) >= 8 for p, _ in test)
    assert source.read(root, "bbh.npz:3").shape == (2, 1024)
    snr = source.columns(root, [p for p, _ in test])["snr"]
    labels = np.array([t for _, t in test])
    assert (snr[labels == 0] == 0).all() and (snr[labels > 0] >= 5).all()


def test_datamodule_batches_are_standardised_strain_views(cache):
    dm = GWAKDataModule(n_train=8, n_test=6, batch_size=6)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.exclude_classes == ["sine_gaussian", "white_noise_burst"]
    assert dm.num_classes == 5 and dm.in_channels == 2
    assert torch.allclose(dm.mean, torch.zeros(2), atol=0.1)
    assert torch.allclose(dm.std, torch.ones(2), atol=0.1)
    batch = next(iter(dm.train_dataloader()))
    v0, v1 = batch["views"]
    assert v0["series"].shape == (6, 2, 1024) and v0["mask"].all()
    assert not torch.equal(v0["series"], v1["series"])  # two different views
    val = next(iter(dm.val_dataloader()[1]))
    assert set(val["image"]) == {"series", "mask"}
    out = dm.on_after_batch_transfer(val, 0)
    expected = (val["image"]["series"] - dm.mean[:, None]) / dm.std[:, None]
    torch.testing.assert_close(out["image"]["series"], expected)


def _metrics(run: Path) -> str:
    return next(run.rglob("metrics.csv")).read_text()


def test_fit_predict_evaluate_writes_anomaly_auroc_and_efficiency(cache, tmp_path):
    from ssl_core.evaluate import evaluate

    run = tmp_path / "run"
    common = ["--config", "simclr-cpu", *TINY, "--trainer.default_root_dir", str(run)]
    main(["--project", "gwak", "fit", *common, "--trainer.max_steps", "2"])
    assert "val/knn_top1" in _metrics(run)  # validated at the last step
    ckpt = next(run.rglob("last.ckpt"))
    main(["--project", "gwak", "predict", *common, "--ckpt_path", str(ckpt)])
    test = np.load(run / "embeddings" / "test.npz")
    assert (
        test["snr"].shape == test["labels"].shape and (test["snr"][test["labels"] == 0] == 0).all()
    )
    meta = json.loads((run / "embeddings" / "meta.json").read_text())
    assert meta["held_out_labels"] == [3, 4]
    assert test["excess_power"].shape == test["snr"].shape  # the baseline's score
    metrics = evaluate(run, umap=False)
    assert 0.0 <= metrics["anomaly_auroc"] <= 1.0  # the unseen-class test
    e = metrics["efficiency"]
    signals = {"bbh", "sine_gaussian", "white_noise_burst"}
    assert set(e["classes"]) == signals and set(e["baseline"]["classes"]) == signals
    assert e["held_out_classes"] == ["sine_gaussian", "white_noise_burst"]
    assert e["background_classes"] == ["background", "glitch"]
    assert e["background_windows"] == 12 and e["background_live_time_s"] == 6.0
    assert e["far_per_hour"] == 10.0 and e["false_alarms"] == 0  # 6 s: under one an hour
    for entry in (e, e["baseline"]):
        assert all(0.0 <= c["auroc"] <= 1.0 for c in entry["classes"].values())
    assert any("efficiency" in p for p in metrics["plots"])
    assert (run / "plots" / "efficiency_vs_snr.png").is_file()
    figures = run / "figures"
    main_figures([str(figures), "--data", str(GWAK(8, 6).default_root)])
    plot_embedding_snr(run / "embeddings", figures / "embedding.png")
    names = {p.name for p in figures.glob("*.png")}
    assert names == {"strain_examples.png", "spectrogram_bbh.png", "embedding.png"}


def test_patch_transformer_backbone_from_the_command_line(cache, tmp_path):
    run = tmp_path / "run"
    backbone = {
        "class_path": "ssl_core.series.PatchTransformer1d",
        "init_args": {"in_channels": 2, "patch_size": 32, "dim": 16, "depth": 1, "heads": 2},
    }
    args = ["--config", "supervised-cpu", *TINY, "--trainer.default_root_dir", str(run)]
    cli_args = ["--model.backbone", json.dumps(backbone), "--trainer.max_steps", "1"]
    main(["--project", "gwak", "fit", *args, *cli_args])
    assert "val/top1" in _metrics(run)


def test_data_stage_generates_under_the_cache_with_the_params(cache, tmp_path):
    from ssl_core.acquire import acquire

    out = tmp_path / "data" / "gwak"
    manifest = acquire(GWAK(), "generate", out, "n_train=8,n_test=6")
    root = Path(manifest["root"])
    assert root == GWAK(8, 6).default_root and cache in root.parents  # not inside OUT
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert manifest["train_images"] == 8 * 3 and manifest["test_images"] == 6 * 5
    assert manifest["variant"] == "n_train=8,n_test=6"
