"""A real run of the project's CPU recipe (``simclr-cpu``, on fake JapaneseVowels files),
killed with SIGKILL once its first epoch-end ``last.ckpt`` is written and resumed with the
same command plus ``--ckpt_path last``, ends with the weights of a run never killed, bit
for bit (:mod:`ssl_core.resume`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from ssl_core.cli import cli
from ssl_core.series.fake import write_fake_ts
from ssl_core.testing import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the killed run's thread count too

MAX_STEPS = 30  # 10 epochs of 3 batches: the run goes on well after its first checkpoint


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CORE_CACHE", str(tmp_path / "cache"))  # the subprocess's too
    data = tmp_path / "vowels"
    write_fake_ts(data / "JapaneseVowels_TRAIN.ts", ("1", "2", "3"), 10, 12, (7, 29), seed=0)
    write_fake_ts(data / "JapaneseVowels_TEST.ts", ("1", "2", "3"), 4, 12, (7, 29), seed=1)
    return data


def fit_args(root, run_dir) -> list[str]:
    return ["--project", "vowels", "fit", "--config", "simclr-cpu", "--data.root", str(root),
            "--trainer.default_root_dir", str(run_dir), "--trainer.max_steps", str(MAX_STEPS),
            "--data.batch_size", "8", "--data.eval_batch_size", "64",
            "--trainer.enable_progress_bar", "false"]  # fmt: skip


def kill_after_first_checkpoint(args: list[str], ckpt, log) -> int:
    """Start ``train`` with ``args`` in its own process, SIGKILL it as soon as ``ckpt``
    exists (Lightning writes it to a temporary file and renames it: a whole file) and
    return the global step the checkpoint holds."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "ssl_core.cli", *args], env=env, stdout=out, stderr=out
        )
        deadline = time.monotonic() + 300
        while not ckpt.is_file() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        run.kill()
        run.wait()
    assert run.returncode == -signal.SIGKILL, log.read_text()[-3000:]  # killed, not finished
    return torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"]


def test_a_killed_run_resumed_from_last_ends_as_the_uninterrupted_one(root, tmp_path):
    run_dir = tmp_path / "killed"
    ckpt = run_dir / "version_0" / "checkpoints" / "last.ckpt"
    step = kill_after_first_checkpoint(fit_args(root, run_dir), ckpt, tmp_path / "killed.log")
    assert 0 < step < MAX_STEPS and step % 3 == 0  # an epoch end (3 batches an epoch)

    resumed = cli([*fit_args(root, run_dir), "--ckpt_path", "last"])
    whole = cli(fit_args(root, tmp_path / "whole"))

    assert [p.name for p in run_dir.iterdir()] == ["version_0"]  # continued in place
    assert resumed.trainer.global_step == whole.trainer.global_step == MAX_STEPS
    for (name, a), b in zip(
        whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
