"""The task-independent base of every LightningModule here: optimizer and schedule from
YAML, parameter groups, EMA updates, checks of the data against the model, test hooks.
Embedding/classification methods (:class:`ssl_core.methods.base.BaseMethod`) and
segmentation methods build on it as siblings.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Collection
from typing import Literal

import torch
from jsonargparse import ArgumentParser
from lightly.models.utils import get_weight_decay_parameters, update_momentum
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable, SaveConfigCallback
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn

from ssl_core.errors import BadInputError, InputError
from ssl_core.resume import seed_epoch


class DataMismatchError(InputError, ValueError):
    """A model setting that contradicts the data (classes, channels, ignore index), raised
    before anything is written (:meth:`TaskModule.prepare_data`)."""


#: The config name of a head's size (:attr:`TaskModule.head_key`).
NUM_CLASSES_SETTING = "model.num_classes"


def require(setting: str, ours: int, theirs: int, what: str, fix: str = "") -> None:
    """Raise :class:`DataMismatchError` unless the model's ``setting`` equals the data's."""
    if int(ours) != int(theirs):
        fix = fix or f"set --{setting} {theirs}"
        raise DataMismatchError(f"{setting} is {ours} but the data has {theirs} {what}: {fix}")


def default_optimizer(groups: list[dict]) -> torch.optim.Optimizer:
    """SGD with lr 0.06, momentum 0.9, weight decay 5e-4 (lightly's Imagenette benchmark
    writes 0.06 x batch/256 and decays every parameter)."""
    return torch.optim.SGD(groups, lr=0.06, momentum=0.9, weight_decay=5e-4)


def _parameters(factory) -> set[str]:
    """Argument names of what a factory builds (jsonargparse hands callables over as
    ``functools.partial`` around its instantiator, the class among its arguments)."""
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
        optimizer: Builds the optimizer from parameter groups; default :func:`default_optimizer`.
        lr_scheduler: Builds the scheduler from the optimizer (and ``total_steps``, the
            run's length, if its ``__init__`` takes it).
        lr_interval: When the scheduler steps: every optimizer ``step`` or every ``epoch``.
        lr_frequency: Step the scheduler every this many intervals.
        exclude_norm_bias_decay: No weight decay on normalization layers and biases.
    """

    #: The datamodule's ``train_on`` the method needs, checked at fit start: ``"semi"``
    #: (labeled and unlabeled batches), ``"labeled"`` (with a label split, only its
    #: labeled images) or ``None`` (any).
    train_on: str | None = None

    #: What ``train test`` logs that reports the task, as ``{logged key: metrics.json
    #: key}``, for the label-fraction comparison (``python -m ssl_core.pipeline``).
    test_metrics: dict[str, str] = {}
    #: The logged keys that may head a comparison, in order of preference.
    headlines: tuple[str, ...] = ()
    #: The state-dict key of the layer whose rows are the classes (``None``: no such
    #: head): ``num_classes`` is then checked against the data, or taken from it.
    head_key: str | None = None

    @classmethod
    def headline(cls, logged: Collection[str]) -> str | None:
        """The first of :attr:`headlines` (default: the first key of ``test_metrics``)
        among the ``logged`` keys, ``None`` when there is none."""
        candidates = cls.headlines or tuple(cls.test_metrics)[:1]
        return next((key for key in candidates if key in logged), None)

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
        dm = self.datamodule()
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

    # ------------------------------------------------------------ the data
    def datamodule(self):
        return getattr(self._trainer, "datamodule", None) if self._trainer else None

    def input_channels(self) -> tuple[str, int | None]:
        """The model's image-channel setting: its config name and value (``None``: any)."""
        return "model.init_args.in_channels", None

    def check_data(self, datamodule) -> None:
        """Refuse data the model was not built for (:class:`DataMismatchError`): here the
        image channels (the datamodule's ``in_channels``, else its source's ``channels``),
        subclasses add theirs. ``datamodule`` may be ``None`` (nothing to check)."""
        setting, ours = self.input_channels()
        theirs = getattr(datamodule, "in_channels", None)
        if theirs is None:
            theirs = getattr(getattr(datamodule, "source", None), "channels", None)
        if ours is not None and theirs is not None:
            require(setting, ours, int(theirs), "channels (the data source's `channels`)")
        theirs = getattr(datamodule, "num_classes", None)
        if self.head_key and self.num_classes is not None and theirs:
            fix = f"leave {NUM_CLASSES_SETTING} out (it is then taken from the data) or set it to {theirs}"
            require(NUM_CLASSES_SETTING, self.num_classes, theirs, "classes", fix)

    def prepare_data(self) -> None:
        """Check the data before anything is written; once per node."""
        self.check_data(self.datamodule())

    def setup(self, stage: str) -> None:
        """Check the data on every rank and size an unsized head from it; subclasses build
        what else depends on it after this."""
        self.check_data(self.datamodule())
        if self.head_key is None or self.num_classes is not None:
            return
        theirs = int(getattr(self.datamodule(), "num_classes", 0) or 0)
        if theirs < 1:
            raise DataMismatchError(
                f"{NUM_CLASSES_SETTING} is not set and the data does not say how many classes it has: "
                f"set --{NUM_CLASSES_SETTING} N"
            )
        self.set_num_classes(theirs)

    def set_num_classes(self, n: int | None) -> None:
        """Build the head (:meth:`configure_head`) for ``n`` classes (``None``: unknown yet)."""
        self.num_classes = n
        if n is not None:
            self.hparams["num_classes"] = n  # the checkpoint says it: load_from_checkpoint
            self.configure_head()

    def configure_head(self) -> None:
        """Build what depends on ``num_classes`` (with a :attr:`head_key`)."""

    def load_state_dict(self, state_dict, *args, **kwargs):
        """``nn.Module.load_state_dict``, first giving a model without a head (e.g. in
        ``ddp_spawn``'s main process) the head of ``state_dict``'s size; a head of another
        size is refused."""
        weight = state_dict.get(self.head_key)
        if weight is not None:
            saved = int(weight.shape[0])
            if self.num_classes is None:
                self.set_num_classes(saved)
            elif saved != self.num_classes:
                raise DataMismatchError(
                    f"the checkpoint's classifier has {saved} classes but this model has "
                    f"{self.num_classes} ({NUM_CLASSES_SETTING} or the data's classes)"
                )
        return super().load_state_dict(state_dict, *args, **kwargs)

    # -------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Keep in the checkpoint how the model reads data (the datamodule's
        ``reading_state``) and its ``model`` config (for :meth:`load_from_checkpoint`)."""
        dm = self.datamodule()
        if dm is not None and hasattr(dm, "reading_state"):
            checkpoint["data_reading"] = dm.reading_state()
        config = self._model_config()
        if config is not None:
            checkpoint["model_config"] = config

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Hand the checkpoint's ``data_reading`` to the datamodule (kept as
        ``self.data_reading`` for a model loaded without one)."""
        self.data_reading = checkpoint.get("data_reading")
        dm = self.datamodule()
        if self.data_reading and dm is not None and hasattr(dm, "use_reading_state"):
            dm.use_reading_state(self.data_reading)

    def _model_config(self) -> dict | None:
        """The run's ``model`` config as plain values; ``None`` outside ``train``."""
        trainer = self._trainer
        for callback in trainer.callbacks if trainer is not None else []:
            if isinstance(callback, SaveConfigCallback) and "model" in callback.config:
                model = callback.config["model"]
                plain = model.as_dict() if hasattr(model, "as_dict") else model
                return json.loads(json.dumps(plain, default=str))
        return None

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, **kwargs) -> TaskModule:
        """Any method from a checkpoint ``train`` wrote, built from its ``model`` config as
        ``train`` built it, then loaded; other checkpoints go to Lightning's loader (give
        the backbone in ``kwargs``). The checkpoint is unpickled: load only files you trust.

        Raises:
            BadInputError: the checkpoint holds another kind of model than ``cls``.
        """
        checkpoint = torch.load(checkpoint_path, map_location=map_location or "cpu",
                                weights_only=False)  # fmt: skip
        config = checkpoint.get("model_config")
        if config is None:
            return super().load_from_checkpoint(checkpoint_path, map_location, **kwargs)
        config.setdefault("init_args", {}).update(kwargs)
        parser = ArgumentParser(exit_on_error=False)
        parser.add_subclass_arguments(TaskModule, "model")
        model = parser.instantiate_classes(parser.parse_object({"model": config})).model
        if not isinstance(model, cls):
            raise BadInputError(
                f"{checkpoint_path} holds a {type(model).__name__}, not a {cls.__name__}"
            )
        model.on_load_checkpoint(checkpoint)
        model.load_state_dict(checkpoint["state_dict"])
        return model

    def on_train_batch_start(self, batch, batch_idx: int) -> None:
        """Reseed the global generators from ``(seed, epoch)`` at an epoch's first batch,
        so that a resumed run draws what the uninterrupted run drew (:mod:`ssl_core.resume`)."""
        if batch_idx == 0:
            seed_epoch(self.current_epoch)
        self.count_skipped(batch)
        self.log_skipped()

    def on_validation_batch_start(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.count_skipped(batch)

    def on_validation_epoch_end(self) -> None:
        """Log what validation left out (subclasses call this first)."""
        self.log_skipped()

    def count_skipped(self, batch) -> None:
        """Note what a ``skip`` datamodule left out: its ``bad`` samples and this batch's
        ``bad_files`` (:func:`ssl_core.data.datasets.collate`; warned of once)."""
        if not hasattr(self, "_skipped_files"):
            self._skipped_files = set(getattr(self.datamodule(), "bad", None) or ())
        new = [p for p in _bad_files(batch) if p not in self._skipped_files]
        if new:
            rank_zero_warn(f"Skipped unreadable files: {', '.join(new)}")
            self._skipped_files.update(new)

    def log_skipped(self) -> None:
        if getattr(self, "_skipped_files", None):
            self.log("train/skipped_files", float(len(self._skipped_files)), reduce_fx="max")

    # ------------------------------------------------------------- optimizers
    def parameter_groups(self) -> list[dict]:
        """Parameter groups; methods with extra trainable modules extend this list."""
        if not self.exclude_norm_bias_decay:
            return [{"name": "all", "params": [p for p in self.parameters() if p.requires_grad]}]
        decay, no_decay = get_weight_decay_parameters([self])
        decay, no_decay = ([p for p in ps if p.requires_grad] for ps in (decay, no_decay))
        return [
            {"name": "decay", "params": decay},
            {"name": "no_decay", "params": no_decay, "weight_decay": 0.0},
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
        optimizer = (self.optimizer or default_optimizer)(groups)
        if self.lr_scheduler is None:
            return optimizer
        steps = "total_steps" in _parameters(self.lr_scheduler)
        kwargs = {"total_steps": self.scheduler_total_steps()} if steps else {}
        scheduler = self.lr_scheduler(optimizer, **kwargs)
        schedule = {"interval": self.lr_interval, "frequency": self.lr_frequency}
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, **schedule}}

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        self.on_after_optimizer_step()

    def on_after_optimizer_step(self) -> None:
        """After every optimizer step: ``copy = m * copy + (1 - m) * online`` for the EMA
        copies (:meth:`ema_pairs`), ``m =`` :meth:`momentum` (logged ``train/momentum``)."""
        pairs = self.ema_pairs()
        if pairs:
            # global_step does not count the step just taken yet: it is k, 0 first
            m = self.momentum(self.global_step)
            for online, twin in pairs:
                update_momentum(online, twin, m)
            self.log("train/momentum", m, on_step=True, on_epoch=False)

    # ------------------------------------------------------------ EMA copies
    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """``(online module, its EMA copy)`` pairs (BYOL's target, MoCo's key encoder,
        DINO's and Mean Teacher's teacher); none by default."""
        return []

    def momentum(self, step: int) -> float:
        """Momentum of the EMA update after optimizer step ``step`` (0 first), see
        :mod:`ssl_core.methods.ema`."""
        raise NotImplementedError(f"{type(self).__name__} has EMA copies but no momentum")

    # ------------------------------------------------------------ test hooks
    # `train test` runs the validation hooks (they read `self.trainer.testing`)
    def on_test_epoch_start(self) -> None:
        self.on_validation_epoch_start()

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.validation_step(batch, batch_idx, dataloader_idx)

    def on_test_epoch_end(self) -> None:
        self.on_validation_epoch_end()

    def log_train(self, values: dict[str, torch.Tensor], batch_size: int) -> None:
        """Log ``train/<name>`` per step and epoch (``loss`` also on the progress bar)."""
        every = {"on_step": True, "on_epoch": True, "batch_size": batch_size}
        for name, value in values.items():
            self.log(f"train/{name}", value, prog_bar=name == "loss", **every)
