"""The task-independent base of every LightningModule here: optimizer and schedule
from YAML, parameter groups, the after-optimizer-step hook, the ``train_on`` check.

Embedding/classification methods (:class:`ssl_core.methods.base.BaseMethod`: backbone,
online kNN, ``embed``, ``classify``) and segmentation methods build on it as siblings.
"""

from __future__ import annotations

import functools
import inspect
from typing import Literal

import torch
from lightly.models.utils import get_weight_decay_parameters
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.utilities import rank_zero_warn

from ssl_core.resume import seed_epoch


def _parameters(factory) -> set[str]:
    """Argument names of what a (possibly ``functools.partial``-wrapped) factory builds.

    jsonargparse hands callables over as partials around its instantiator, with the
    class among the partial's arguments."""
    while isinstance(factory, functools.partial):
        classes = [a for a in factory.args if isinstance(a, type)]
        factory = classes[0] if classes else factory.func
    try:
        return set(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        return set()


def _bad_files(batch):
    if isinstance(batch, dict):
        yield from batch.get("bad_files", [])
        for value in batch.values():
            if isinstance(value, dict):
                yield from _bad_files(value)


class TaskModule(LightningModule):
    """Injected optimizer/scheduler, parameter groups, named hooks.

    Args:
        optimizer: Callable building the optimizer from parameter groups (YAML:
            ``class_path: torch.optim.SGD`` + ``init_args``); default SGD with lr 0.06,
            momentum 0.9, weight decay 5e-4 (lightly's Imagenette benchmark writes
            0.06 x batch/256 and decays every parameter).
        lr_scheduler: Callable building the scheduler from the optimizer; if its
            ``__init__`` has a ``total_steps`` argument it receives the run's length.
        lr_interval: When the scheduler steps: every optimizer ``step`` or every ``epoch``.
        lr_frequency: Step the scheduler every this many intervals.
        exclude_norm_bias_decay: No weight decay on normalization layers and biases.
    """

    #: What the method trains on (the datamodule's ``train_on``), checked at fit start:
    #: ``"semi"`` methods need labeled and unlabeled batches; ``"labeled"`` methods, when
    #: a label split is given, must see only its labeled images (training on all images
    #: would read the labels of the images the split calls unlabeled). ``None``: any.
    train_on: str | None = None

    #: What ``train test`` logs that reports the task, as ``{logged key: metrics.json
    #: key}``, the headline first: the label-fraction comparison
    #: (``python -m ssl_core.pipeline --test-only``) writes these and compares the first.
    test_metrics: dict[str, str] = {}

    def __init__(
        self,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
        lr_frequency: int = 1,
        exclude_norm_bias_decay: bool = True,
    ) -> None:
        super().__init__()
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.lr_interval = lr_interval
        self.lr_frequency = lr_frequency
        self.exclude_norm_bias_decay = exclude_norm_bias_decay

    def on_fit_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        actual = getattr(dm, "train_on", None)
        if self.train_on is None or actual is None or actual == self.train_on:
            return
        if self.train_on == "semi":
            raise ValueError(
                f"{type(self).__name__} trains on labeled and unlabeled batches together: "
                f"set data.train_on to 'semi' (it is {actual!r})."
            )
        if self.train_on == "labeled" and getattr(dm, "split", None):
            raise ValueError(
                f"{type(self).__name__} with label split {dm.split!r} must train on its "
                f"labeled images only: set data.train_on to 'labeled' (it is {actual!r})."
            )

    def on_train_epoch_start(self) -> None:
        """Reseed the global generators from ``(seed, epoch)``: a run resumed at an epoch
        boundary draws what the uninterrupted run drew (see :mod:`ssl_core.resume`)."""
        seed_epoch(self.current_epoch)

    def on_train_batch_start(self, batch, batch_idx: int) -> None:
        """Count the files a ``skip`` datamodule left out of this batch (``bad_files``
        fields, see :func:`ssl_core.data.datasets.collate`) and name them once."""
        skipped = list(_bad_files(batch))
        if not skipped:
            return
        self._skipped_files = getattr(self, "_skipped_files", set())
        new = [p for p in skipped if p not in self._skipped_files]
        self._skipped_files.update(skipped)
        if new:
            rank_zero_warn(f"Skipped unreadable files: {', '.join(new)}")
        self.log("train/skipped_files", float(len(self._skipped_files)), reduce_fx="max")

    # ------------------------------------------------------------- optimizers
    def parameter_groups(self) -> list[dict]:
        """Parameter groups; methods with extra trainable modules extend this list."""
        if not self.exclude_norm_bias_decay:
            return [{"name": "all", "params": [p for p in self.parameters() if p.requires_grad]}]
        decay, no_decay = get_weight_decay_parameters([self])
        return [
            {"name": "decay", "params": [p for p in decay if p.requires_grad]},
            {
                "name": "no_decay",
                "params": [p for p in no_decay if p.requires_grad],
                "weight_decay": 0.0,
            },
        ]

    def scheduler_total_steps(self) -> int:
        """Length of the run in scheduler steps (for warmup/cosine schedules)."""
        if self.lr_interval == "step":
            total = self.trainer.estimated_stepping_batches
        else:
            total = self.trainer.max_epochs if self.trainer.max_epochs not in (None, -1) else 1
        return max(int(total) // self.lr_frequency, 1)

    def configure_optimizers(self):
        groups = [g for g in self.parameter_groups() if g["params"]]
        if self.optimizer is None:
            optimizer = torch.optim.SGD(groups, lr=0.06, momentum=0.9, weight_decay=5e-4)
        else:
            optimizer = self.optimizer(groups)
        if self.lr_scheduler is None:
            return optimizer
        if "total_steps" in _parameters(self.lr_scheduler):
            scheduler = self.lr_scheduler(optimizer, total_steps=self.scheduler_total_steps())
        else:
            scheduler = self.lr_scheduler(optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": self.lr_interval,
                "frequency": self.lr_frequency,
            },
        }

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        self.on_after_optimizer_step()

    def on_after_optimizer_step(self) -> None:
        """Called once after every optimizer step (not every batch under gradient
        accumulation): the place for momentum-encoder / EMA-teacher updates."""
