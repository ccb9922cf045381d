"""vowels on fake JapaneseVowels files written here (12 channels, lengths 7-29, the
archive's .ts text format): listing by file:line ids, padded batches with masks, bad
series named in one line, and the CLI's fit for a contrastive and a semi-supervised
recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_core.cli import main
from ssl_core.data import BadDataError
from vowels import Vowels, VowelsDataModule

CLASSES = ("1", "2", "3")


def write_ts(path: Path, n: int, seed: int, bad_line: str | None = None) -> Path:
    """A .ts file of ``n`` 12-channel series of 7-29 steps, classes cycling 1, 2, 3 (class
    ``k`` has mean ``k``), optionally one bad series line at the end."""
    rng = np.random.default_rng(seed)
    lines = ["# fake JapaneseVowels", "@problemName JapaneseVowels", "@timeStamps false",
             "@missing false", "@univariate false", "@dimensions 12", "@equalLength false",
             "@seriesLength 29", f"@classLabel true {' '.join(CLASSES)}", "@data"]  # fmt: skip
    for i in range(n):
        k, length = i % 3, int(rng.integers(7, 30))
        channels = [",".join(f"{v:.3f}" for v in rng.normal(k, 1.0, length)) for _ in range(12)]
        lines.append(":".join(channels) + f":{CLASSES[k]}")
    if bad_line is not None:
        lines.append(bad_line)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CORE_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "vowels"
    data.mkdir()
    write_ts(data / "JapaneseVowels_TRAIN.ts", 60, 0)
    write_ts(data / "JapaneseVowels_TEST.ts", 30, 1)
    return data


def test_source_lists_train_and_test_files_by_line(root):
    source = Vowels()
    train, test = source.list_samples(root, "train"), source.list_samples(root, "test")
    assert len(train) == 60 and len(test) == 30
    assert train[0] == ("JapaneseVowels_TRAIN.ts:11", 0)  # the 11th line holds the first series
    assert test[1] == ("JapaneseVowels_TEST.ts:12", 1)
    assert source.channels == 12 and source.class_list(root) == CLASSES
    assert source.read(root, train[0][0]).shape[0] == 12
    assert source.list_samples(root.parent, "train") == []  # no files: no samples


def test_batches_are_padded_with_masks_and_standardised(root):
    dm = VowelsDataModule(root=str(root), batch_size=10, split="frac0.10-seed0", train_on="semi")
    dm.setup("fit")
    batch, *_ = next(iter(dm.train_dataloader()))  # CombinedLoader: (batch, index, loader)
    labeled, unlabeled = batch["labeled"], batch["unlabeled"]
    assert len(labeled["views"]) == 1 and len(unlabeled["views"]) == 2  # weak; weak + strong
    view = unlabeled["views"][1]
    lengths = view["mask"].sum(1)
    assert (view["series"][~view["mask"][:, None, :].expand_as(view["series"])] == 0).all()
    assert lengths.min() < view["mask"].shape[1]  # padding where series are shorter
    # standardisation from the training statistics (not those of the test file)
    train = [dm.source.read(root, p) for p, _ in dm.train_set.samples]
    values = np.concatenate(train, axis=1)
    torch.testing.assert_close(dm.mean, torch.tensor(values.mean(1), dtype=torch.float32))
    out = dm.on_after_batch_transfer({"image": view}, 0)["image"]
    assert (out["series"][~view["mask"][:, None, :].expand_as(view["series"])] == 0).all()


def test_a_bad_series_is_named_in_one_line_or_skipped(root):
    nan_line = ":".join(["1.0,NaN,2.0"] * 12) + ":1"
    write_ts(root / "JapaneseVowels_TRAIN.ts", 60, 0, bad_line=nan_line)
    with pytest.raises(
        BadDataError, match=r"1 bad series: JapaneseVowels_TRAIN.ts:71 \(12 NaN values\)"
    ):
        VowelsDataModule(root=str(root)).setup("fit")
    dm = VowelsDataModule(root=str(root), on_bad_file="skip", batch_size=61)
    dm.setup("fit")
    assert "JapaneseVowels_TRAIN.ts:71" not in [p for p, _ in dm.val_samples + dm.pool_samples]
    assert torch.isfinite(dm.mean).all()


@pytest.mark.parametrize("config", ["simclr-cpu", "fixmatch-cpu"])
def test_fit_logs_a_validation_metric(root, tmp_path, config):
    run = tmp_path / config
    main(["--project", "vowels", "fit", "--config", config, "--data.root", str(root),
          "--trainer.max_steps", "2", "--trainer.default_root_dir", str(run),
          "--data.batch_size", "8"])  # fmt: skip
    log = next(run.rglob("metrics.csv")).read_text()
    assert "val/knn_top1" in log
