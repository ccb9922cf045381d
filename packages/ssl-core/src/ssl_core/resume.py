"""Resuming a run so that it ends as the run that was never stopped (``docs/cluster.md``,
"Time limit, requeue, resume")."""

from __future__ import annotations

import csv
import os
import random
import re
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

VERSION = re.compile(r"^version_(\d+)$")


def seed_epoch(epoch: int, seed: int | None = None) -> None:
    """Reseed Python's, NumPy's and torch's global generators from ``(seed, epoch)``
    (``seed`` by default: ``seed_everything``'s, else 0)."""
    seed = int(os.environ.get("PL_GLOBAL_SEED", 0)) if seed is None else seed
    value = seed * 1_000_003 + epoch
    random.seed(value)
    np.random.seed(value % 2**32)  # noqa: NPY002 (the global generator is what code draws from)
    torch.manual_seed(value)  # also every CUDA device's generator


def last_run(root: str | Path) -> tuple[Path, int] | None:
    """``(last.ckpt, N)`` of the newest ``root/version_N`` with a ``last.ckpt``, or ``None``."""
    found = [
        (int(match[1]), ckpt)
        for ckpt in Path(root).glob("version_*/checkpoints/last.ckpt")
        if (match := VERSION.match(ckpt.parents[1].name)) and ckpt.is_file()
    ]
    version, ckpt = max(found, default=(None, None))
    return None if ckpt is None else (ckpt, version)


def evaluation_folder(root: str | Path, ckpt: str | Path | None, subcommand: str) -> str:
    """The log folder, under ``root``, of ``train validate|test|predict`` of ``ckpt``:
    ``version_N-test`` for ``root/version_N/checkpoints/*.ckpt``, else (a checkpoint from
    elsewhere, or none) ``test``; never a ``version_N`` (which would read as another fit)."""
    path = Path(ckpt).resolve() if ckpt is not None and Path(ckpt).is_file() else None
    if path and path.parent.name == "checkpoints" and VERSION.match(path.parents[1].name):
        if path.parents[2] == Path(root).resolve():
            return f"{path.parents[1].name}-{subcommand}"
    return subcommand


def checkpoint_folders(ckpt: str | Path) -> dict[str, str]:
    """``{state key: dirpath}`` of the checkpoint callbacks a checkpoint holds the state of
    (the tensors are memory-mapped, not loaded)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=False, mmap=True)
    callbacks = state.get("callbacks") or {}
    return {
        k: v["dirpath"] for k, v in callbacks.items() if isinstance(v, dict) and v.get("dirpath")
    }


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
        self.metrics_keys = sorted({*keys, "step"})


class ResumableCSVLogger(CSVLogger):
    """``CSVLogger`` that continues the log of a resumed run in place.

    Args:
        keep_before_step: Rows of an existing ``metrics.csv`` logged at steps below this
            (the resumed checkpoint's global step) are kept; later rows are dropped.
        **kwargs: ``CSVLogger``'s arguments (``version``: the run folder to continue).
    """

    def __init__(self, keep_before_step: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keep_before_step = keep_before_step

    @property
    def experiment(self) -> _KeepingWriter:
        if self._experiment is None:
            os.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _KeepingWriter(self.log_dir, self.keep_before_step)
        return self._experiment


class LastCheckpoint(ModelCheckpoint):
    """Writes ``last.ckpt`` at every training epoch's end, whatever the validation schedule,
    and every ``every_n_train_steps`` optimizer steps where given (docs/cluster.md).

    Args:
        every_n_train_steps: Also save every this many optimizer steps (``None``: at
            epoch ends only), for epochs too long to lose. Such a checkpoint replaces the
            epoch-end one and resumes the run, but not exactly (docs/cluster.md).
        dirpath: As ``ModelCheckpoint`` (default: the logger's
            ``version_N/checkpoints``, where ``--ckpt_path last`` looks).
    """

    def __init__(self, every_n_train_steps: int | None = None, dirpath: str | None = None) -> None:
        # ModelCheckpoint takes steps or epochs, not both: it saves at epoch ends, we count steps
        super().__init__(
            dirpath=dirpath,
            filename="last",  # the one file a no-monitor, top-1 checkpoint keeps
            save_top_k=1,
            every_n_epochs=1,
            save_on_train_epoch_end=True,  # not after validation, which may never come
            enable_version_counter=False,  # overwrite last.ckpt, never last-v1.ckpt
        )
        self.every_n_train_steps = every_n_train_steps
        self._step_saved = 0
        self._saving_a_finished_epoch = False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        step = trainer.global_step
        if (
            self.every_n_train_steps
            and step % self.every_n_train_steps == 0
            and step != self._step_saved  # once per step, also with gradient accumulation
            and not (trainer.sanity_checking or trainer.fast_dev_run)
        ):
            self._step_saved = step
            trainer.save_checkpoint(Path(self.dirpath) / f"{self.filename}{self.FILE_EXTENSION}")

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        # an epoch that ran all its batches (not one stopped by max_steps)
        done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
        self._saving_a_finished_epoch = done >= trainer.num_training_batches
        try:
            super().on_train_epoch_end(trainer, pl_module)
        finally:
            self._saving_a_finished_epoch = False

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if self._saving_a_finished_epoch:  # this callback's own epoch-end save only
            as_next_epoch_start(checkpoint["loops"]["fit_loop"])


def as_next_epoch_start(fit_loop: dict) -> None:
    """Change the fit loop's state of a checkpoint written at an epoch's end (in place)
    to the state the next epoch starts from: the epoch counted complete, the per-epoch
    counters zeroed. Lightning (2.6.6) resumes such a checkpoint as an epoch still ending;
    under ``max_steps`` it would train one more batch in it and stay an epoch behind."""

    def zero(counters: dict, key: str = "current") -> None:
        for name, value in counters.items():
            if name == key:
                counters[name] = dict.fromkeys(value, 0)
            elif isinstance(value, dict):
                zero(value, key)

    for counts in fit_loop["epoch_progress"].values():
        counts["completed"] = counts["processed"]
    progress = ("batch_progress", "scheduler_progress", "automatic_optimization.optim_progress")
    for name in (*progress, "manual_optimization.optim_step_progress"):
        zero(fit_loop[f"epoch_loop.{name}"])
    fit_loop["epoch_loop.batch_progress"]["is_last_batch"] = False
    zero(fit_loop["epoch_loop.val_loop.batch_progress"], "total")  # counted per epoch
