"""Resuming a run so that it ends as the run that was never stopped.

``train fit ... --ckpt_path last`` continues the latest run of that config in its own
run folder and log (:func:`last_run`; Lightning alone would open a new ``version_N``,
look for ``last.ckpt`` there, find none and train from scratch with only a warning).
What makes the resumed run equal to the uninterrupted one (within float rounding), from
the last epoch-end checkpoint:

- the loops, optimizer, scheduler and callbacks: Lightning's checkpoint;
- the order of the samples and every sample's augmentation: drawn from
  ``(seed, epoch)`` by :class:`ssl_core.data.SeededSampler`, not from a generator's
  history;
- every other random draw of a training step (dropout, CutMix boxes, noise): the global
  generators are reseeded from ``(seed, epoch)`` at the start of every epoch
  (:func:`seed_epoch`), so epoch k draws the same numbers however the run got there;
- the CSV log: :class:`ResumableCSVLogger` keeps the rows logged before the resumed step
  (Lightning's ``CSVLogger`` deletes an existing ``metrics.csv``) and drops those of the
  interrupted epoch, which is trained again.
"""

from __future__ import annotations

import csv
import os
import random
import re
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

VERSION = re.compile(r"^version_(\d+)$")


def global_seed(default: int = 0) -> int:
    """The run's seed: ``seed_everything``'s (``PL_GLOBAL_SEED``), else ``default``."""
    return int(os.environ.get("PL_GLOBAL_SEED", default))


def seed_epoch(epoch: int, seed: int | None = None) -> None:
    """Reseed Python's, NumPy's and torch's global generators from ``(seed, epoch)``."""
    value = (global_seed() if seed is None else seed) * 1_000_003 + epoch
    random.seed(value)
    np.random.seed(value % 2**32)  # noqa: NPY002 (the global generator is what code draws from)
    torch.manual_seed(value)  # also every CUDA device's generator


def last_run(root: str | Path) -> tuple[Path, int] | None:
    """``(last.ckpt, N)`` of the newest ``root/version_N`` that has
    ``checkpoints/last.ckpt``, or ``None``."""
    found = []
    for folder in Path(root).glob("version_*"):
        match = VERSION.match(folder.name)
        ckpt = folder / "checkpoints" / "last.ckpt"
        if match and ckpt.is_file():
            found.append((int(match[1]), ckpt))
    if not found:
        return None
    version, ckpt = max(found)
    return ckpt, version


def checkpoint_step(ckpt: str | Path) -> int:
    """The global step a checkpoint was saved at."""
    return int(torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"])


class _KeepingWriter(ExperimentWriter):
    """Lightning's CSV writer, but an existing ``metrics.csv`` keeps its rows logged
    before ``keep_before_step`` instead of being deleted."""

    def __init__(self, log_dir: str, keep_before_step: int) -> None:
        self.keep_before_step = keep_before_step
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            keys = list(reader.fieldnames or [])
            rows = [r for r in reader if int(float(r["step"])) < self.keep_before_step]
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        self.metrics_keys = [k for k in keys if k != "step"] + ["step"]
        self.metrics_keys.sort()


class ResumableCSVLogger(CSVLogger):
    """``CSVLogger`` that continues the log of a resumed run in place.

    Args:
        save_dir: As ``CSVLogger``.
        name: As ``CSVLogger``.
        version: As ``CSVLogger`` (the run folder to continue).
        keep_before_step: Rows of an existing ``metrics.csv`` logged at steps below this
            (the resumed checkpoint's global step) are kept; later rows, of the epoch that
            was interrupted and is trained again, are dropped.
        **kwargs: Other ``CSVLogger`` arguments.
    """

    def __init__(
        self,
        save_dir: str,
        name: str = "",
        version: int | str | None = None,
        keep_before_step: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(save_dir, name=name, version=version, **kwargs)
        self.keep_before_step = keep_before_step

    @property
    def experiment(self) -> _KeepingWriter:
        if self._experiment is None:
            os.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _KeepingWriter(self.log_dir, self.keep_before_step)
        return self._experiment
