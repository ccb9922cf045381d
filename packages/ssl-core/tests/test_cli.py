"""What ``train`` shows and where it writes: ``train test`` of a fit's checkpoint prints
one table of the test metrics and logs beside the fit (``version_N-test``), a step-budget
fit's progress bar counts steps, and Lightning's noise that no user can act on is not
shown while warnings a user can act on are."""

from __future__ import annotations

import csv
import logging
import warnings

import pytest
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import rank_zero_info

from ssl_core.cli import cli, known_noise_silenced, main
from ssl_core.resume import evaluation_folder, last_run

STEPS = ["--trainer.max_steps", "2", "--trainer.max_epochs", "-1"]
# checkpoints as the projects' recipes have them: LastCheckpoint (train fit adds it) and
# the config's own ModelCheckpoint, which has no dirpath (it writes to the run's folder)
CHECKPOINTS = [
    "--trainer.enable_checkpointing",
    "true",
    "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
    "--trainer.callbacks.monitor",
    "train/loss_epoch",
]
LEAFSPEC = "isinstance(treespec, LeafSpec)"
ADVERT = "💡 Tip"


def _test_args(tiny_args, root, run_dir, ckpt, *extra: str) -> list[str]:
    args = tiny_args(root, run_dir, *CHECKPOINTS, "--ckpt_path", str(ckpt), *extra)
    args[0] = "test"
    return args


def _header(metrics_csv) -> list[str]:
    with metrics_csv.open() as f:
        return next(csv.reader(f))


def test_train_test_prints_one_table_and_logs_beside_the_fit(
    tiny_args, fake_root, tmp_path, capsys, caplog, recwarn
):
    run_dir = tmp_path / "run"
    cli(tiny_args(fake_root, run_dir, *STEPS, *CHECKPOINTS))
    ckpt = run_dir / "version_0" / "checkpoints" / "last.ckpt"
    capsys.readouterr()
    recwarn.clear()

    result = cli(_test_args(tiny_args, fake_root, run_dir, ckpt))

    out = capsys.readouterr().out
    assert out.count("Test metric") == 1 and "DataLoader" not in out  # one table
    for name in ("test/knn_top1", "test/knn_top5"):
        assert out.count(name) == 1
        assert name in result.trainer.callback_metrics
    # beside the fit, not a version_N of its own; the fit's folder is left as it was
    assert sorted(p.name for p in run_dir.iterdir()) == ["version_0", "version_0-test"]
    assert sorted(p.name for p in (run_dir / "version_0").iterdir()) == [
        "checkpoints",
        "config.yaml",
        "hparams.yaml",
        "metrics.csv",
    ]
    header = _header(run_dir / "version_0-test" / "metrics.csv")
    assert {"test/knn_top1", "test/knn_top5"} <= set(header)
    assert not any("dataloader_idx" in key for key in header)
    # --ckpt_path last still resumes the fit; the next fit is still version_1
    assert last_run(run_dir) == (ckpt, 0)
    assert CSVLogger(save_dir=run_dir, name="").version == 1
    # nothing restored from the fit's checkpoint callbacks warns, nor does Lightning's noise
    messages = [str(w.message) for w in recwarn]
    for unwanted in ("dirpath has changed", "Be aware that when using `ckpt_path`", LEAFSPEC):
        assert not any(unwanted in m for m in messages), unwanted
    assert not any(ADVERT in r.getMessage() for r in caplog.records)

    # `--ckpt_path last` tests the newest fit, into the same folder; the warning that its
    # earlier log is replaced (a user may want to keep it) still shows
    recwarn.clear()
    cli(_test_args(tiny_args, fake_root, run_dir, "last"))
    assert f"train: test of {ckpt}" in capsys.readouterr().out
    assert sorted(p.name for p in run_dir.iterdir()) == ["version_0", "version_0-test"]
    assert any("exists and is not empty" in str(w.message) for w in recwarn)


def test_test_of_last_without_a_fit_is_one_line(tiny_args, fake_root, tmp_path):
    with pytest.raises(SystemExit, match="train: --ckpt_path last: no run with a last.ckpt"):
        main(_test_args(tiny_args, fake_root, tmp_path / "run", "last"))


def test_a_step_budget_fit_shows_its_steps_and_no_noise(
    tiny_args, fake_root, tmp_path, capsys, caplog, recwarn
):
    bar = ["--trainer.enable_progress_bar", "true"]
    # log_every_n_steps above the epoch's batches: Lightning's warning a user can act on
    cli(tiny_args(fake_root, tmp_path, *STEPS, *bar, "--trainer.log_every_n_steps", "50"))
    out = capsys.readouterr().out
    assert "step 2/2" in out and "/-2" not in out  # not Lightning's "Epoch 1/-2"
    messages = [str(w.message) for w in recwarn]
    assert any("log_every_n_steps=50" in m for m in messages)
    assert not any(LEAFSPEC in m for m in messages)
    assert not any(ADVERT in r.getMessage() for r in caplog.records)


def test_known_noise_silenced_drops_only_its_own_messages(caplog):
    leafspec = "`isinstance(treespec, LeafSpec)` is deprecated, use `treespec.is_leaf()`"
    advert = "💡 Tip: For seamless cloud logging and experiment tracking, try litlogger"
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO):
        warnings.simplefilter("always")
        with known_noise_silenced():
            warnings.warn(leafspec, FutureWarning, stacklevel=1)
            warnings.warn("another API is deprecated", FutureWarning, stacklevel=1)
            rank_zero_info(advert)
            rank_zero_info("GPU available: False")
        warnings.warn(leafspec, FutureWarning, stacklevel=1)  # outside: shown
        rank_zero_info(advert)
    assert [str(w.message) for w in caught] == ["another API is deprecated", leafspec]
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False", advert]


def test_evaluation_folder(tmp_path):
    ckpt = tmp_path / "version_3" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.touch()
    elsewhere = tmp_path / "other" / "checkpoints" / "last.ckpt"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.touch()
    assert evaluation_folder(tmp_path, ckpt, "test") == "version_3-test"
    assert evaluation_folder(tmp_path, ckpt, "predict") == "version_3-predict"
    assert evaluation_folder(tmp_path / "other", ckpt, "test") == "test"  # another root's
    assert evaluation_folder(tmp_path, elsewhere, "validate") == "validate"
    assert evaluation_folder(tmp_path, None, "test") == "test"  # the random init
