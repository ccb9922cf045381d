"""Resume: a run killed during an epoch and resumed with the same command plus
``--ckpt_path last`` ends with the weights and log of the run that was never killed
(CPU, 0 and 2 dataloader workers), in the same run folder; so does a step-budget run
(``max_steps``, every CPU recipe), from the ``last.ckpt`` that ``train fit`` writes at
every epoch end (:class:`ssl_core.resume.LastCheckpoint`), which keeps the config's own
``ModelCheckpoint``."""

from __future__ import annotations

import csv

import pytest
import torch

from ssl_core.cli import cli
from ssl_core.methods import SimCLR
from ssl_core.series.fake import write_fake_ts
from ssl_core.testing import one_torch_thread  # noqa: F401

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


# ------------------------------------------------ step budgets, on tiny series runs
BATCHES = 3  # per epoch
SERIES_CONFIG = """\
# SimCLR with a small ResNet1d on a fake UEA dataset (Toy_TRAIN.ts, Toy_TEST.ts): seconds
seed_everything: 0
trainer:
  accelerator: cpu
  devices: 1
  precision: 32
  max_steps: 9
  limit_train_batches: 3
  enable_progress_bar: false
  enable_model_summary: false
  log_every_n_steps: 1
  num_sanity_val_steps: 0
  limit_val_batches: 1
model:
  class_path: ssl_core.methods.SimCLR
  init_args:
    backbone:
      class_path: ssl_core.series.ResNet1d
      init_args: {in_channels: 2, widths: [8, 8]}
    projection_dim: 8
    hidden_dim: 16
    knn_k: 5
data:
  class_path: ssl_core.data.ClassificationDataModule
  init_args:
    source: {class_path: ssl_core.series.UEASeries, init_args: {dataset: Toy}}
    batch_size: 8
    eval_batch_size: 32
    num_workers: 0
"""


@pytest.fixture
def toy_root(tmp_path):
    """``Toy_TRAIN.ts`` (2 classes x 16 two-channel series: 3 training batches after
    the validation split) and ``Toy_TEST.ts``, with the config beside them."""
    for split, n, seed in (("TRAIN", 16, 0), ("TEST", 3, 1)):
        write_fake_ts(tmp_path / "toy" / f"Toy_{split}.ts", ("a", "b"), n, 2, (5, 12), seed)
    (tmp_path / "toy" / "series-tiny.yaml").write_text(SERIES_CONFIG)
    return tmp_path / "toy"


def series_args(root, run_dir, *extra: str) -> list[str]:
    return ["fit", "--config", str(root / "series-tiny.yaml"), "--data.root", str(root),
            "--trainer.default_root_dir", str(run_dir), *extra]  # fmt: skip


def kill_at_step(step: int):
    def kill(self, outputs, batch, batch_idx):
        if self.global_step == step:
            raise Killed("node lost")

    return kill


def fit_killed_and_resumed(root, run_dir, monkeypatch, step: int, *extra: str):
    """Fit until ``step``, where the run dies; then the same command with ``--ckpt_path
    last``. Returns the finished CLI and the checkpoint it resumed from."""
    with monkeypatch.context() as m:
        m.setattr(SimCLR, "on_train_batch_end", kill_at_step(step), raising=False)
        with pytest.raises(Killed):
            cli(series_args(root, run_dir, *extra))
    ckpt = run_dir / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=False)
    return cli(series_args(root, run_dir, *extra, "--ckpt_path", "last")), saved


@pytest.mark.usefixtures("one_torch_thread")
def test_a_step_budget_resumes_from_an_epoch_end_bit_for_bit(toy_root, tmp_path, monkeypatch):
    """Lightning alone resumes an epoch-end checkpoint of a ``max_steps`` run one batch
    into the wrong epoch; :class:`~ssl_core.resume.LastCheckpoint` writes the state of the
    next epoch's start instead."""
    whole = cli(series_args(toy_root, tmp_path / "whole"))
    resumed, saved = fit_killed_and_resumed(toy_root, tmp_path / "killed", monkeypatch, 5)
    assert saved["global_step"] == BATCHES  # epoch 0's end; epoch 1 was killed
    assert resumed.trainer.global_step == whole.trainer.global_step == 9
    for (name, a), b in zip(
        whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


@pytest.mark.usefixtures("one_torch_thread")
def test_a_step_that_draws_from_the_global_generator_resumes_bit_for_bit(
    toy_root, tmp_path, monkeypatch
):
    monkeypatch.setattr(SimCLR, "training_step", _drawing_step(SimCLR.training_step))
    whole = cli(series_args(toy_root, tmp_path / "whole"))
    resumed, _ = fit_killed_and_resumed(toy_root, tmp_path / "killed", monkeypatch, 5)
    for a, b in zip(
        whole.model.state_dict().values(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def _drawing_step(step):
    def drawing_step(self, batch, batch_idx):
        return step(self, batch, batch_idx) * (1 + 0.1 * torch.rand(()))  # as dropout draws

    return drawing_step


@pytest.mark.usefixtures("one_torch_thread")
def test_every_n_train_steps_also_writes_last_mid_epoch(toy_root, tmp_path, monkeypatch):
    """``--checkpoint_every_n_train_steps 2``: ``last.ckpt`` at step 4, in epoch 1; the
    resumed run ends at ``max_steps``, and Lightning says that it is not the same run."""
    with pytest.warns(UserWarning, match="ended before the epoch ended"):
        resumed, saved = fit_killed_and_resumed(
            toy_root, tmp_path, monkeypatch, 5, "--checkpoint_every_n_train_steps", "2"
        )
    assert saved["global_step"] == 4 and saved["global_step"] % BATCHES != 0
    assert resumed.trainer.global_step == 9


@pytest.mark.usefixtures("one_torch_thread")
def test_a_config_s_own_checkpoints_keep_working_beside_last_checkpoint(toy_root, tmp_path):
    """``LastCheckpoint`` listed first (as a project's ``trainer-cpu.yaml`` does), then
    the experiment's: a monitored ``ModelCheckpoint`` in the run's folder keeps its best-k
    file and leaves ``last.ckpt`` to ``LastCheckpoint`` (no ``last-v1.ckpt``); one with
    its own ``dirpath`` keeps its own ``last.ckpt`` there."""
    checkpoint = "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint"
    own = ["--trainer.callbacks+=ssl_core.resume.LastCheckpoint",
           checkpoint, "--trainer.callbacks.monitor", "train/loss_epoch",
           "--trainer.callbacks.filename", "best-{epoch}", "--trainer.callbacks.save_last",
           "true", "--trainer.callbacks.save_on_train_epoch_end", "true",
           checkpoint, "--trainer.callbacks.dirpath", str(tmp_path / "elsewhere"),
           "--trainer.callbacks.save_last", "true"]  # fmt: skip
    cli(series_args(toy_root, tmp_path / "run", *own))
    saved = tmp_path / "run" / "version_0" / "checkpoints"
    files = sorted(p.name for p in saved.iterdir())
    assert len(files) == 2 and files[0].startswith("best-epoch=") and files[1] == "last.ckpt"
    assert torch.load(saved / "last.ckpt", weights_only=False)["global_step"] == 9
    assert (tmp_path / "elsewhere" / "last.ckpt").is_file()


def test_no_checkpoint_is_added_when_checkpointing_is_off(toy_root, tmp_path):
    cli(series_args(toy_root, tmp_path, "--trainer.enable_checkpointing", "false"))
    assert not list(tmp_path.rglob("*.ckpt"))  # and Lightning refused no ModelCheckpoint
