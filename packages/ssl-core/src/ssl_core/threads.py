"""How many intra-op threads torch uses in a CPU run (``train --cpu_threads``): the rule
and its measurements are in docs/development.md, "CPU threads"."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.utilities import rank_zero_info

#: What ``--cpu_threads`` takes.
CpuThreadsSetting = int | Literal["auto", "torch"]


def choose_threads(cores: int, busy: int = 0, processes: int = 1) -> int:
    """The ``auto`` rule: intra-op threads per process."""
    return max(1, (cores - busy) // max(1, processes))


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (``taskset``, Slurm, ``docker
    --cpuset-cpus``), capped by a cgroup v2 quota (``docker --cpus``, a Kubernetes limit)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:  # "max 100000", or "200000 100000": 2 cores
        limit, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cores
    return cores if limit == "max" else min(cores, max(1, math.ceil(int(limit) / int(period))))


def runnable_threads(samples: int = 10, interval: float = 0.01) -> float:
    """Threads runnable on the machine now (``/proc/loadavg``, this thread included),
    averaged over ``samples`` readings; elsewhere the 1-minute load average."""
    counts = []
    for _ in range(samples):
        try:
            fields = Path("/proc/loadavg").read_text().split()
        except OSError:
            return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        counts.append(int(fields[3].split("/")[0]))  # "running/total"
        time.sleep(interval)
    return sum(counts) / len(counts)


def busy_cores(processes: int = 1) -> int:
    """Cores other programs keep busy; 0 where this process may not use every core of the
    machine (a cpuset of a shared node: the machine's count is mostly other jobs' cores)."""
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) < (os.cpu_count() or 1):
        return 0
    return max(0, round(runnable_threads() - processes))


def resolve_threads(setting: CpuThreadsSetting, processes: int = 1) -> tuple[int | None, str]:
    """The thread count a setting gives here and now (``None``: leave torch's), and why."""
    if setting == "torch":
        return None, "torch's count, as asked (--cpu_threads torch)"
    if setting != "auto":
        if int(setting) < 1:
            raise ValueError(f"--cpu_threads must be auto, torch or >= 1, not {setting}")
        return int(setting), "as asked (--cpu_threads)"
    if os.environ.get("OMP_NUM_THREADS"):
        return None, f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} is set"
    cores, busy = usable_cores(), busy_cores(processes)
    per = f" shared by {processes} processes" if processes > 1 else ""
    return choose_threads(cores, busy, processes), (
        f"auto: {cores} cores{per}, {busy} busy with other programs; "
        "--cpu_threads N|torch to choose"
    )


class CpuThreads(Callback):
    """Sets a CPU run's torch threads at setup (in each process) and restores them at
    teardown; a GPU run is left alone.

    Args:
        setting: ``auto`` (:func:`choose_threads`), ``torch`` (torch's default) or N.
    """

    def __init__(self, setting: CpuThreadsSetting = "auto") -> None:
        self.setting = setting
        self._before: int | None = None
        self._auto = False  # auto chose the count (neither asked nor OMP_NUM_THREADS)

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if not isinstance(trainer.accelerator, CPUAccelerator) or self._before is not None:
            return
        threads, why = resolve_threads(self.setting, trainer.num_devices)
        self._before = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        self._auto = self.setting == "auto" and threads is not None
        rank_zero_info(f"train: torch uses {torch.get_num_threads()} CPU threads ({why})")

    def state_dict(self) -> dict[str, int]:
        return {"threads": torch.get_num_threads()}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        """On resume (after :meth:`setup`): ``auto`` takes the checkpoint's count."""
        saved = state_dict.get("threads")
        if not self._auto or saved in (None, torch.get_num_threads()):
            return
        torch.set_num_threads(saved)
        rank_zero_info(
            f"train: torch uses {saved} CPU threads, as the checkpoint's run did "
            "(a resume is exact only with the same count; --cpu_threads N to choose)"
        )

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self._before is not None:
            torch.set_num_threads(self._before)
            self._before, self._auto = None, False
