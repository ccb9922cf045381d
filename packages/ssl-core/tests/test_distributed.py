"""Several processes: the CLI under SLURM's environment picks Lightning's SLURM
environment; ``train validate`` with 2 CPU processes (gloo, ``ddp_spawn``) logs exactly
the metrics of 1 process (every sample counted once); a 2-process fit runs end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightning.pytorch.plugins.environments import SLURMEnvironment

from ssl_core.cli import SSLCLI, cli

TWO = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp_spawn"]
SMALL = ["--data.num_workers", "0", "--data.eval_batch_size", "7"]  # 7: uneven shards


def test_slurm_environment_is_picked_up(tiny_args, fake_root, tmp_path, monkeypatch):
    slurm = {
        "SLURM_NTASKS": "2",
        "SLURM_NTASKS_PER_NODE": "2",
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NAME": "train",
        "SLURM_PROCID": "1",
        "SLURM_LOCALID": "1",
        "SLURM_NODEID": "0",
        "SLURM_NODELIST": "node001",
    }
    # Lightning's SLURM environment writes MASTER_ADDR/MASTER_PORT into os.environ:
    # registered here so that they are removed again (a later spawn would dial node001)
    for key, value in {**slurm, "MASTER_ADDR": "", "MASTER_PORT": ""}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MASTER_ADDR")
    monkeypatch.delenv("MASTER_PORT")
    args = tiny_args(fake_root, tmp_path)[1:]  # no subcommand: build, do not run
    args += ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]
    run = SSLCLI(None, "tiny", args=args, run=False)
    environment = run.trainer._accelerator_connector.cluster_environment
    assert isinstance(environment, SLURMEnvironment)
    assert environment.global_rank() == 1 and environment.world_size() == 2
    assert environment.main_address == "node001"


def _validate(tiny_args, root, run_dir, *extra):
    args = tiny_args(root, run_dir, *SMALL, *extra)
    args[0] = "validate"
    return cli(args).trainer.callback_metrics


def test_two_processes_validate_exactly_as_one(tiny_args, fake_root, tmp_path):
    one = _validate(tiny_args, fake_root, tmp_path / "one")
    two = _validate(tiny_args, fake_root, tmp_path / "two", *TWO)
    assert {"val/knn_top1", "val/knn_top5"} <= set(one)
    for key in ("val/knn_top1", "val/knn_top5"):
        assert two[key].item() == pytest.approx(one[key].item(), abs=0), key


def test_two_process_fit_sizes_the_classifier_from_the_data(tiny_args, fake_root, tmp_path):
    """A 2-process fit runs end to end (the losses' gathering across ranks:
    ``test_ddp_losses.py``). Each rank builds the head from the data at setup (before DDP
    wraps the model); ddp_spawn's main process, which never ran setup, gets it with the
    trained weights."""
    args = tiny_args(fake_root, tmp_path, *SMALL, *TWO, "--model", "ssl_core.methods.Supervised")
    args += ["--data.split", "frac0.50-seed0", "--data.train_on", "labeled"]
    args += ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2"]
    args += ["--trainer.limit_val_batches", "2"]
    run = cli(args)
    assert run.trainer.state.finished and run.trainer.world_size == 2
    assert run.model.classifier.out_features == 5  # the fake data's 5 classes
    assert "val/top1" in run.trainer.callback_metrics


def test_two_process_segmentation_fit_runs_end_to_end(tmp_path):
    from ssl_core.segmentation.data import make_fake_segmentation

    root = make_fake_segmentation(tmp_path / "data", {"train": 12, "test": 3}, size=40, channels=1)
    config = Path(__file__).resolve().parent / "configs" / "segmentation-tiny.yaml"
    args = ["fit", "--config", str(config), "--data.root", str(root)]
    args += ["--trainer.default_root_dir", str(tmp_path / "run"), *TWO]
    args += ["--model", "ssl_core.segmentation.UniMatch", "--data.train_on", "semi"]
    args += ["--data.split", "frac0.50-seed0", "--model.in_channels", "1"]
    args += ["--data.source.init_args.channels", "1", "--trainer.max_epochs", "1"]
    args += ["--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "2"]
    run = cli(args)
    assert run.trainer.state.finished and run.trainer.world_size == 2
    assert "val/iou" in run.trainer.callback_metrics
