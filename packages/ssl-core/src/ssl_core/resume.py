"""Resuming a run so that it ends as the run that was never stopped.

``train fit ... --ckpt_path last`` continues the latest run of that config in its own
run folder and log (:func:`last_run`; Lightning alone would open a new ``version_N``,
look for ``last.ckpt`` there, find none and train from scratch with only a warning).
What makes the resumed run equal to the uninterrupted one (bit for bit in the CPU tests),
from the last epoch-end checkpoint:

- the loops, optimizer, scheduler and callbacks: Lightning's checkpoint, as
  :class:`LastCheckpoint` writes it: at every epoch end, in the state of the next epoch's
  start (:func:`as_next_epoch_start`; what a ``max_steps`` run needs);
- the order of the samples and every sample's augmentation: drawn from
  ``(seed, epoch)`` by :class:`ssl_core.data.SeededSampler`, not from a generator's
  history;
- every other random draw of a training step (dropout, CutMix boxes, noise): the global
  generators are reseeded from ``(seed, epoch)`` at every epoch's first batch
  (:func:`seed_epoch`), after the epoch's DataLoader iterator has drawn its base seed
  from the torch generator (reseeding at the epoch's start would come before that draw
  in an uninterrupted epoch and after it in a resumed one);
- the CSV log: :class:`ResumableCSVLogger` keeps the rows logged before the resumed step
  (Lightning's ``CSVLogger`` deletes an existing ``metrics.csv``) and drops those of the
  interrupted epoch, which is trained again.

Only an epoch-end checkpoint resumes exactly. From one written in the middle of an
epoch (``--checkpoint_every_n_train_steps N``, Lightning's ``hpc_ckpt`` on SLURM) the
optimizer, scheduler and step count continue, but the epoch does not: the dataloaders
cannot resume, so Lightning starts the epoch's loader again from its first batch (the
same order: :class:`ssl_core.data.SeededSampler` draws it from ``(seed, epoch)``) while
it counts the batches already done, and ends the epoch that many batches early. After a
checkpoint at batch ``k`` of an ``n``-batch epoch the resumed run trains again on the
epoch's first ``n - k`` batches and never sees its last ``k``; the rest of that epoch is
not reseeded either (Lightning warns "You're resuming from a checkpoint that ended
before the epoch ended"). From the next epoch on the data and draws are the
uninterrupted run's, applied to other weights: a sound run, not the same one (a vowels
run resumed at step 4 of 12 ended 0.07 away in its largest weight difference).
"""

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


def evaluation_folder(root: str | Path, ckpt: str | Path | None, subcommand: str) -> str:
    """The log folder, under ``root``, of ``train validate|test|predict`` of ``ckpt``.

    Beside the fit it evaluates, never a ``version_N`` of its own (which would read as
    another fit): ``version_N-test`` for ``root/version_N/checkpoints/*.ckpt``, else
    (a checkpoint from elsewhere, or none: the random init) ``test``; likewise
    ``-validate`` and ``-predict``. :func:`last_run` and Lightning's version counter
    skip both, so the next fit is still ``version_N+1`` and ``--ckpt_path last`` still
    finds the newest fit. Evaluating the same checkpoint again replaces the folder's log.
    """
    if ckpt is not None and Path(ckpt).is_file():
        checkpoints = Path(ckpt).resolve().parent
        run = checkpoints.parent
        if (
            checkpoints.name == "checkpoints"
            and VERSION.match(run.name)
            and run.parent == Path(root).resolve()
        ):
            return f"{run.name}-{subcommand}"
    return subcommand


def checkpoint_folders(ckpt: str | Path) -> dict[str, str]:
    """``{state key: dirpath}`` of the checkpoint callbacks a checkpoint holds the state
    of: the folder each wrote into during the fit. Only the file's index is read (the
    tensors are memory-mapped, not loaded)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=False, mmap=True)
    callbacks = state.get("callbacks") or {}
    return {
        key: value["dirpath"]
        for key, value in callbacks.items()
        if isinstance(value, dict) and value.get("dirpath")
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


class LastCheckpoint(ModelCheckpoint):
    """Writes ``last.ckpt`` at the end of every training epoch, whatever the validation
    schedule, and also every ``every_n_train_steps`` optimizer steps where given: what
    ``--ckpt_path last`` resumes from and the final-step checkpoint a run reports.

    ``train fit`` adds one to every run with checkpointing on (:class:`ssl_core.cli.SSLCLI`).
    Lightning's ``ModelCheckpoint(save_last=True)`` alone does not do this: without a
    ``monitor`` it saves after each validation, and a recipe that validates once, at its
    last step, writes nothing before it; with a ``monitor``, Lightning 2.6 writes
    ``last.ckpt`` only at the steps where the monitored value improved.

    Args:
        every_n_train_steps: Also save every this many optimizer steps (``None``: at
            epoch ends only), for epochs too long to lose. Such a checkpoint replaces the
            epoch-end one and resumes the run, but not exactly (see the module's notes).
        dirpath: As ``ModelCheckpoint`` (default: the logger's
            ``version_N/checkpoints``, where ``--ckpt_path last`` looks).
    """

    def __init__(self, every_n_train_steps: int | None = None, dirpath: str | None = None) -> None:
        # ModelCheckpoint takes steps or epochs, not both: it saves at epoch ends, the
        # steps are counted here
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
    counters zeroed (what Lightning does at the next epoch's start).

    Lightning counts an epoch complete after its epoch-end hooks, where checkpoints are
    written, and resumes such a checkpoint as an epoch still ending. Counting epochs
    (``max_epochs``) it then completes the epoch; counting steps (``max_steps``, every
    step-budget recipe) it trains one more batch in that epoch (the next epoch's first
    batch) and stays an epoch behind from there: the next epoch's other batches are never
    seen and every later epoch reseeds with the wrong epoch (Lightning 2.6.6). In the
    state written here both ways start the next epoch as the uninterrupted run does.
    """

    def zero(counters: dict, key: str = "current") -> None:
        for name, value in counters.items():
            if name == key:
                counters[name] = dict.fromkeys(value, 0)
            elif isinstance(value, dict):
                zero(value, key)

    for counts in fit_loop["epoch_progress"].values():
        counts["completed"] = counts["processed"]
    for name in (
        "epoch_loop.batch_progress",
        "epoch_loop.scheduler_progress",
        "epoch_loop.automatic_optimization.optim_progress",
        "epoch_loop.manual_optimization.optim_step_progress",
    ):
        zero(fit_loop[name])
    fit_loop["epoch_loop.batch_progress"]["is_last_batch"] = False
    zero(fit_loop["epoch_loop.val_loop.batch_progress"], "total")  # counted per epoch
