"""The CPU thread choice (``ssl_core.threads``) and ``train --cpu_threads``."""

from __future__ import annotations

import os

import pytest
import torch

import ssl_core.cli
from ssl_core import threads
from ssl_core.cli import cli
from ssl_core.threads import (
    CpuThreads,
    busy_cores,
    choose_threads,
    resolve_threads,
    usable_cores,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # restores torch's count at the end


@pytest.mark.parametrize(
    ("cores", "busy", "processes", "expected"),
    [
        (2, 0, 1, 2),  # an idle laptop: both cores
        (2, 1, 1, 1),  # a second run or a test session beside it
        (2, 12, 1, 1),  # the measured case, load 9-13 on 2 cores: never fewer than one
        (16, 3, 1, 13),
        (16, 0, 4, 4),  # DDP: four processes share the cores
        (16, 5, 4, 2),
        (16, 20, 4, 1),
    ],
)
def test_choose_threads(cores, busy, processes, expected):
    assert choose_threads(cores, busy, processes) == expected


def test_usable_cores_is_this_process_share():
    assert 1 <= usable_cores() <= os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert usable_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="Linux's runnable count")
def test_busy_cores_counts_other_programs_running_now(monkeypatch):
    assert threads.runnable_threads(samples=2, interval=0.0) >= 1  # this reader at least
    counts = iter([3, 3, 4, 3, 3, 3, 3, 3, 3, 3])  # two others and this reader, a blip
    monkeypatch.setattr(threads, "runnable_threads", lambda: sum(counts) / 10)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: len(os.sched_getaffinity(0)))
    assert busy_cores() == 2
    monkeypatch.setattr(threads, "runnable_threads", lambda: 3.1)
    assert busy_cores(processes=2) == 1  # the run's other process is not "other"
    assert busy_cores(processes=4) == 0
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 1024)  # a cpuset of a big node
    assert busy_cores() == 0  # the machine's count is other jobs' cores


def test_resolve_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    monkeypatch.setattr(threads, "busy_cores", lambda processes: 3)
    count, why = resolve_threads("auto")
    assert count == 5 and "8 cores" in why and "3 busy" in why
    assert resolve_threads("auto", processes=2)[0] == 2
    assert resolve_threads(3)[0] == 3
    assert resolve_threads("torch")[0] is None  # torch's count is left as it is
    monkeypatch.setenv("OMP_NUM_THREADS", "6")  # a job script's explicit choice wins over auto
    count, why = resolve_threads("auto")
    assert count is None and "OMP_NUM_THREADS=6" in why
    assert resolve_threads(2)[0] == 2  # ... not over an explicit --cpu_threads
    with pytest.raises(ValueError, match="cpu_threads"):
        resolve_threads(0)


class _Recording(CpuThreads):
    """:class:`CpuThreads` that notes the thread count the training runs with."""

    seen: list[int] = []

    def on_train_start(self, trainer, pl_module) -> None:
        _Recording.seen.append(torch.get_num_threads())


@pytest.fixture
def recording(monkeypatch):
    """The CLI's thread callback, recording; torch at 2 threads before the fit, 1 after."""
    monkeypatch.setattr(ssl_core.cli, "CpuThreads", _Recording)
    _Recording.seen = []
    torch.set_num_threads(2)
    yield _Recording.seen
    torch.set_num_threads(1)


def test_cli_applies_cpu_threads_during_the_fit_only(recording, fake_root, tmp_path, tiny_args):
    cli(tiny_args(fake_root, tmp_path / "run", "--cpu_threads", "1", "--trainer.max_steps", "1"))
    assert recording == [1]
    assert torch.get_num_threads() == 2  # restored when the run ends


def test_cli_auto_is_the_default(recording, fake_root, tmp_path, tiny_args, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda processes: 1)
    cli(tiny_args(fake_root, tmp_path / "run", "--trainer.max_steps", "1"))
    assert recording == [3]  # 4 cores, 1 busy
    assert torch.get_num_threads() == 2


def test_a_resumed_auto_run_takes_its_checkpoints_count(
    recording, fake_root, tmp_path, tiny_args, monkeypatch
):
    """The count changes a CPU run's last bits: a resume is exact only with the same one."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda processes: 1)
    run = tmp_path / "run"
    saving = ["--trainer.enable_checkpointing", "true", "--trainer.limit_train_batches", "1"]
    cli(tiny_args(fake_root, run, *saving, "--cpu_threads", "1", "--trainer.max_epochs", "1"))
    cli(tiny_args(fake_root, run, *saving, "--trainer.max_epochs", "2", "--ckpt_path", "last"))
    assert recording == [1, 1]  # auto would say 3 here: the checkpoint's 1 wins
    more = ["--cpu_threads", "2", "--trainer.max_epochs", "3", "--ckpt_path", "last"]
    cli(tiny_args(fake_root, run, *saving, *more))
    assert recording == [1, 1, 2]  # an explicit count wins over the checkpoint's
    assert torch.get_num_threads() == 2
