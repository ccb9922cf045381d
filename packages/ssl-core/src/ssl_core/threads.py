"""How many intra-op threads torch uses in a CPU run (``train --cpu_threads``).

torch's default is one intra-op (OpenMP) thread per core, whatever else runs. Where
other programs keep cores busy, those threads wait for each other at every parallel
operation, spinning while a core they need runs something else: on 2 cores at load 9-13
a small 1-D network's step cost 316 ms of CPU with torch's default against 21 ms with
one thread; two identical runs side by side, 2 threads each, are 2.6-6x slower than
with one thread each. On an idle machine the cores are better used: 2 threads are 10-55%
faster than one, loader workers or not. So a CPU run takes the cores nobody else uses:

``auto`` = max(1, floor((cores - busy) / processes))

- ``cores``: the cores this process may run on (:func:`usable_cores`: its CPU affinity,
  which ``taskset``, Slurm and ``docker --cpuset-cpus`` set, capped by a cgroup v2 CPU
  quota such as ``docker --cpus`` or a Kubernetes limit);
- ``busy``: threads of other programs running right now (:func:`busy_cores`: Linux's
  count of runnable threads, averaged over 0.1 s at setup, less this run's own
  processes), counted only where this process may use every core of the machine (the
  count is the machine's: on a Slurm node it holds the other jobs' cores too);
- ``processes``: this run's processes on the node (DDP: one per device).

The dataloader workers are not counted: in a CPU run they mostly wait for the training
step (on 2 idle cores, 2 threads beside 2 workers were 50-55% faster than 1 thread);
a CPU run bound by its loader gains from ``--cpu_threads`` (cores - workers).
The count is taken once, at setup: what starts later is not seen (two runs started
together see each other). ``OMP_NUM_THREADS`` in the environment wins over ``auto`` (a
job script that sets it means it). ``--cpu_threads N`` sets N threads, ``--cpu_threads
torch`` leaves torch's count. Measured: docs/development.md ("CPU threads"), made by
``bench/threads.py``.

:class:`CpuThreads` applies the choice in every process when the trainer sets up (after
a DDP launch too), says it in one line, and restores torch's count when the run ends.
DataLoader workers are not concerned: torch gives each of them one thread.

The thread count changes the last bits of a CPU run's results (the order of sums in
matrix products: after 5 AdamW steps of a ResNet-18, weights differ by up to 2e-5
between 1 and 2 threads). So ``auto`` makes a rerun on a busier machine close to, not
bit-identical with, the first run: ``--cpu_threads N`` fixes the count where bit-identical
reruns matter. A resumed run (``--ckpt_path``) with ``auto`` takes the count its checkpoint
was trained with, so that a resume stays exact.
"""

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
    """The ``auto`` rule (see the module docstring): intra-op threads per process.

    Args:
        cores: Cores this run may use.
        busy: Cores other programs keep busy.
        processes: The run's processes on these cores (DDP ranks of the node).

    Returns:
        At least 1.
    """
    return max(1, (cores - busy) // max(1, processes))


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = Path("/sys/fs/cgroup/cpu.max")  # "max 100000", or "200000 100000": 2 cores
    try:
        limit, period = quota.read_text().split()
    except (OSError, ValueError):
        return cores or 1
    if limit != "max":
        cores = min(cores, max(1, math.ceil(int(limit) / int(period))))
    return cores or 1


def runnable_threads(samples: int = 10, interval: float = 0.01) -> float:
    """Threads runnable on the machine now (Linux's ``/proc/loadavg``, this reading
    thread included), the mean of ``samples`` readings ``interval`` seconds apart;
    elsewhere the 1-minute load average."""
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
    """Cores other programs keep busy: runnable threads less this run's ``processes``,
    rounded; 0 where this process may not use every core of the machine (a cpuset of a
    shared node: the machine's count is mostly other jobs' cores)."""
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) < (os.cpu_count() or 1):
        return 0
    return max(0, round(runnable_threads() - processes))


def resolve_threads(setting: CpuThreadsSetting, processes: int = 1) -> tuple[int | None, str]:
    """The thread count a setting gives here and now (``None``: leave torch's), and why,
    in words for the log."""
    if setting == "torch":
        return None, "torch's count, as asked (--cpu_threads torch)"
    if setting != "auto":
        if int(setting) < 1:
            raise ValueError(f"--cpu_threads must be auto, torch or >= 1, not {setting}")
        return int(setting), "as asked (--cpu_threads)"
    if os.environ.get("OMP_NUM_THREADS"):
        return None, f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} is set"
    cores, busy = usable_cores(), busy_cores(processes)
    threads = choose_threads(cores, busy, processes)
    per = f" shared by {processes} processes" if processes > 1 else ""
    return threads, (
        f"auto: {cores} cores{per}, {busy} busy with other programs; "
        "--cpu_threads N|torch to choose"
    )


class CpuThreads(Callback):
    """Sets torch's intra-op threads of a CPU run at setup (in each process: DDP ranks
    too) and restores the previous count at teardown. A run on a GPU is left alone.

    Args:
        setting: ``auto`` (the rule of :func:`choose_threads`), ``torch`` (torch's default)
            or a number of threads.
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
