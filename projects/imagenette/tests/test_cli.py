"""The real `train` entry point on the fake Imagenette: fit, validate, test, configs,
and the LR scheduler's wiring (interval, frequency, total_steps from the trainer)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from imagenette import PROJECT
from ssl_core.cli import cli, main
from ssl_core.optim import WarmupCosine


def _args(tiny_config, fake_root, run_dir, *extra: str, subcommand: str = "fit") -> list[str]:
    return [
        "--project",
        "imagenette",
        subcommand,
        "--config",
        str(tiny_config),
        "--data.root",
        str(fake_root),
        "--trainer.default_root_dir",
        str(run_dir),
        *extra,
    ]


def _metrics(run_dir: Path) -> list[dict[str, str]]:
    files = sorted(run_dir.rglob("metrics.csv"))
    assert len(files) == 1, f"expected one metrics.csv under {run_dir}, found {files}"
    with files[0].open() as f:
        return list(csv.DictReader(f))


def _lr_by_step(rows: list[dict[str, str]]) -> list[float]:
    """The LR that LearningRateMonitor logged before each optimizer step (group 0)."""
    column = next(c for c in rows[0] if c.startswith("lr-SGD"))
    return [float(r[column]) for r in rows if r.get(column)]


LR_MONITOR = [
    "--trainer.callbacks+=lightning.pytorch.callbacks.LearningRateMonitor",
    "--trainer.callbacks.logging_interval=step",
]


def test_fast_dev_run(tiny_config, fake_root, tmp_path):
    main(_args(tiny_config, fake_root, tmp_path / "run", "--trainer.fast_dev_run", "1"))
    assert not list(tmp_path.rglob("metrics.csv"))  # fast_dev_run: 1 batch, no logging


def test_short_fit_logs_knn_and_steps_lr_every_step(tiny_config, fake_root, tmp_path):
    run_dir = tmp_path / "run"
    result = cli(
        _args(
            tiny_config,
            fake_root,
            run_dir,
            "--trainer.limit_train_batches",
            "3",
            *LR_MONITOR,
        )
    )
    trainer = result.trainer
    assert trainer.global_step == 3
    rows = _metrics(run_dir)
    knn = [float(r["val/knn_top1"]) for r in rows if r.get("val/knn_top1")]
    assert len(knn) == 1 and 0.0 <= knn[0] <= 1.0
    assert any(r.get("train/loss_step") for r in rows)
    # WarmupCosine got the run's length from the trainer and stepped every batch.
    config = trainer.lr_scheduler_configs[0]
    assert (config.interval, config.frequency) == ("step", 1)
    assert isinstance(config.scheduler, WarmupCosine)
    assert config.scheduler.max_epochs == trainer.estimated_stepping_batches == 3
    assert config.scheduler.last_epoch == 3
    lrs = _lr_by_step(rows)
    assert len(lrs) == 3 and len(set(lrs)) == 3  # a new LR at every optimizer step


def test_a_fit_stopped_mid_epoch_by_max_steps_validates_its_last_step(
    tiny_config, fake_root, tmp_path
):
    """``--trainer.max_steps 2`` (a short try of a recipe) ends before the epoch's end,
    where the tiny config validates: ``train fit`` adds ``ValidateAtLastStep`` to every
    run, so the last step's val metrics are logged, once."""
    run_dir = tmp_path / "run"
    trainer = cli(_args(tiny_config, fake_root, run_dir, "--trainer.max_steps", "2")).trainer
    assert trainer.global_step == 2 and trainer.num_training_batches > 2
    knn = [r["val/knn_top1"] for r in _metrics(run_dir) if r.get("val/knn_top1")]
    assert len(knn) == 1


def test_epoch_interval_steps_once_per_epoch(tiny_config, fake_root, tmp_path):
    run_dir = tmp_path / "run"
    result = cli(
        _args(
            tiny_config,
            fake_root,
            run_dir,
            "--trainer.max_epochs",
            "2",
            "--trainer.limit_train_batches",
            "2",
            "--trainer.limit_val_batches",
            "0",
            "--model.init_args.lr_interval",
            "epoch",
            *LR_MONITOR,
        )
    )
    config = result.trainer.lr_scheduler_configs[0]
    assert config.interval == "epoch"
    assert config.scheduler.max_epochs == 2  # total_steps = max_epochs for epoch schedules
    assert config.scheduler.last_epoch == 2
    lrs = _lr_by_step(_metrics(run_dir))
    assert len(lrs) == 4
    assert lrs[0] == lrs[1] and lrs[2] == lrs[3]  # constant within an epoch
    assert lrs[1] != lrs[2]  # changes between epochs


def test_lr_frequency(tiny_config, fake_root, tmp_path):
    run_dir = tmp_path / "run"
    result = cli(
        _args(
            tiny_config,
            fake_root,
            run_dir,
            "--trainer.limit_train_batches",
            "4",
            "--trainer.limit_val_batches",
            "0",
            "--model.init_args.lr_frequency",
            "2",
            *LR_MONITOR,
        )
    )
    config = result.trainer.lr_scheduler_configs[0]
    assert (config.interval, config.frequency) == ("step", 2)
    assert config.scheduler.max_epochs == 4 // 2  # total_steps in scheduler steps
    assert config.scheduler.last_epoch == 2
    lrs = _lr_by_step(_metrics(run_dir))
    assert len(lrs) == 4 and lrs[0] == lrs[1] and lrs[2] == lrs[3] and lrs[1] != lrs[2]


def test_default_config_is_the_projects_gpu_recipe_where_a_gpu_is(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(SystemExit) as exit_:
        main(["--project", "imagenette", "fit", "--print_config"])
    assert exit_.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "max_epochs: 200" in printed and "check_val_every_n_epoch: 10" in printed  # simclr.yaml
    # Without a subcommand: fit, with the same default config.
    with pytest.raises(SystemExit):
        main(["--project", "imagenette", "--print_config"])
    assert capsys.readouterr().out == printed


def test_without_a_gpu_the_default_is_the_cpu_recipe_said_in_one_line(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        main(["--project", "imagenette", "--print_config"])
    captured = capsys.readouterr()
    recipe = _merged("simclr", "cpu")
    assert f"max_epochs: {recipe['trainer']['max_epochs']}" in captured.out
    assert f"size: {recipe['data']['init_args']['modality']['init_args']['size']}" in captured.out
    said = [line for line in captured.err.splitlines() if "CPU recipe" in line]
    assert said == [
        "train: no GPU found: running imagenette's CPU recipe simclr-cpu.yaml "
        "(`--config simclr` runs the GPU one)"
    ]
    # an explicit --config wins, silently
    with pytest.raises(SystemExit):
        main(["--project", "imagenette", "fit", "--config", "simclr", "--print_config"])
    captured = capsys.readouterr()
    assert "max_epochs: 200" in captured.out and "CPU recipe" not in captured.err


def _merged(method: str, budget: str) -> dict:
    """The experiment as the pipeline's snapshot holds it (projects/imagenette/experiments.json:
    ssl-core's recipe, the project's parts and departures, merged)."""
    experiments = json.loads((PROJECT.root / "experiments.json").read_text())
    return experiments[method][budget]


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_config_by_name(capsys, form):
    config = ["--config", "simclr-cpu"] if form == "separate" else ["--config=simclr-cpu"]
    with pytest.raises(SystemExit):
        main(["--project", "imagenette", "fit", *config, "--print_config"])
    printed = capsys.readouterr().out
    recipe = _merged("simclr", "cpu")  # what it must print
    assert f"max_epochs: {recipe['trainer']['max_epochs']}" in printed
    assert f"size: {recipe['data']['init_args']['modality']['init_args']['size']}" in printed


def test_unknown_config_name_is_a_clear_error():
    with pytest.raises(SystemExit, match="train: No config .*nope.yaml.*simclr-cpu.yaml"):
        main(["--project", "imagenette", "fit", "--config", "nope"])


@pytest.mark.parametrize("subcommand", ["validate", "test"])
def test_validate_and_test(tiny_config, fake_root, tmp_path, subcommand):
    result = cli(
        _args(
            tiny_config,
            fake_root,
            tmp_path / "run",
            "--trainer.limit_val_batches",
            "1",
            "--trainer.limit_test_batches",
            "1",
            subcommand=subcommand,
        )
    )
    prefix = "val" if subcommand == "validate" else "test"
    top1 = result.trainer.callback_metrics[f"{prefix}/knn_top1"]
    assert 0.0 <= float(top1) <= 1.0


def test_missing_data_is_one_clear_message_not_a_traceback(tiny_config, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(SystemExit) as exit_info:
        main(_args(tiny_config, missing, tmp_path / "run", "--data.download", "false"))
    message = str(exit_info.value.code)
    assert message.startswith("train: imagenette not found at")
    assert str(missing) in message
    for way in ("--data.root", "dvc pull", "--data.download true", "--data.variant 160|320|full"):
        assert way in message


def test_fit_with_an_empty_val_folder_still_logs_knn(tiny_config, fake_root, tmp_path):
    """Imagenette's `val/` is the test set: a fit never reads it. With `val/` emptied,
    the validation split carved from `train/` still gives the online kNN its numbers."""
    root = tmp_path / "data"
    shutil.copytree(fake_root, root)
    for folder in (root / "val").iterdir():
        shutil.rmtree(folder)
    assert not any((root / "val").iterdir())
    run_dir = tmp_path / "run"
    result = cli(_args(tiny_config, root, run_dir, "--trainer.limit_train_batches", "2"))
    rows = _metrics(run_dir)
    knn = [float(r["val/knn_top1"]) for r in rows if r.get("val/knn_top1")]
    assert len(knn) == 1 and 0.0 <= knn[0] <= 1.0
    dm = result.datamodule
    assert dm.val_samples and all(p.startswith("train/") for p, _ in dm.val_samples)
    assert dm.test_samples == []
