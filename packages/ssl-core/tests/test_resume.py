"""Resume: a run killed during an epoch and resumed with the same command plus
``--ckpt_path last`` ends with the weights and log of the run that was never killed
(CPU, 0 and 2 dataloader workers), in the same run folder."""

from __future__ import annotations

import csv

import pytest
import torch

from ssl_core.cli import cli
from ssl_core.methods import SimCLR

EPOCHS = [
    "--trainer.max_epochs",
    "2",
    "--trainer.limit_train_batches",
    "4",
    "--trainer.limit_val_batches",
    "1",
]
CHECKPOINTS = [
    "--trainer.enable_checkpointing",
    "true",
    "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
    "--trainer.callbacks.save_last",
    "true",
]


class Killed(RuntimeError):
    """Stands for SIGKILL / a node failure in the middle of epoch 1."""


def kill_in_epoch_1(self, outputs, batch, batch_idx):
    if self.current_epoch == 1 and batch_idx == 2:
        raise Killed("node lost")


def rows(run_dir) -> list[dict]:
    (log,) = sorted(run_dir.glob("version_*/metrics.csv"))
    with log.open() as f:
        return [{k: v for k, v in r.items() if v} for r in csv.DictReader(f)]


@pytest.mark.parametrize("workers", [0, 2])
def test_resumed_run_equals_the_uninterrupted_one(
    tiny_args, fake_root, tmp_path, monkeypatch, workers
):
    args = [
        *EPOCHS,
        *CHECKPOINTS,
        "--data.num_workers",
        str(workers),
        "--model.init_args.knn_k",
        "5",
    ]
    whole = cli(tiny_args(fake_root, tmp_path / "whole", *args))

    run_dir = tmp_path / "killed"
    with monkeypatch.context() as m:
        m.setattr(SimCLR, "on_train_batch_end", kill_in_epoch_1, raising=False)
        with pytest.raises(Killed):
            cli(tiny_args(fake_root, run_dir, *args))
    resumed = cli(tiny_args(fake_root, run_dir, *args, "--ckpt_path", "last"))

    assert [p.name for p in run_dir.iterdir()] == ["version_0"]  # one run folder, one log
    assert resumed.trainer.global_step == whole.trainer.global_step
    for (name, a), b in zip(
        whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=0, msg=name)
    expected, got = rows(tmp_path / "whole"), rows(run_dir)
    assert len(got) == len(expected)
    for e, g in zip(expected, got, strict=True):
        assert e.keys() == g.keys()
        for key in e:
            assert float(g[key]) == pytest.approx(float(e[key]), abs=1e-6), key


def test_last_without_an_earlier_run_starts_a_new_one(tiny_args, fake_root, tmp_path, capsys):
    run = cli(tiny_args(fake_root, tmp_path, "--trainer.fast_dev_run", "1", "--ckpt_path", "last"))
    assert run.trainer.state.finished
    assert "no earlier run with a last.ckpt" in capsys.readouterr().out
