"""The small base LightningModule every method extends.

What all methods share lives here, in named hooks a method overrides:

- ``configure_models``: the backbone (``self.backbone``) and heads.
- ``training_step``: the method's loss (each method writes its own).
- ``configure_optimizers``: optimizer and scheduler *callables* from YAML, parameter
  groups without weight decay on norm/bias, the scheduler's ``interval``/``frequency``
  and its length (``total_steps``) filled in from the trainer.
- an online weighted-kNN probe (``val/knn_top1``) on the datamodule's evaluation loaders:
  dataloader 0 is the memory bank (labeled training images), dataloader 1 the queries.
  It runs on every validation, i.e. every ``trainer.check_val_every_n_epoch`` epochs.
- methods with a classifier (``classify`` returns logits) also log ``val/top1``, the
  classifier's accuracy on the queries.

Batches are ``(images_or_views, targets, indices)``; images arrive normalized float
(the datamodule normalizes on the device, see ``ssl_core.data``).
"""

from __future__ import annotations

import functools
import inspect
from typing import Literal

import torch
from lightly.models.utils import get_weight_decay_parameters
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable

from ssl_core.backbones import Backbone
from ssl_core.knn import knn_classify


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


class BaseMethod(LightningModule):
    """Backbone + heads, injected optimizer/scheduler, online kNN.

    Args:
        backbone: The feature extractor (see :class:`ssl_core.backbones.Backbone`).
        optimizer: Callable building the optimizer from parameter groups (YAML:
            ``class_path: torch.optim.SGD`` + ``init_args``); default SGD with lr 0.06,
            momentum 0.9, weight decay 5e-4 (lightly's Imagenette benchmark).
        lr_scheduler: Callable building the scheduler from the optimizer; if its
            ``__init__`` has a ``total_steps`` argument it receives the run's length.
        lr_interval: When the scheduler steps: every optimizer ``step`` or every ``epoch``.
        lr_frequency: Step the scheduler every this many intervals.
        exclude_norm_bias_decay: No weight decay on normalization layers and biases.
        knn_k: Neighbours of the online kNN probe.
        knn_t: Temperature of the online kNN probe.
    """

    #: What the method trains on (the datamodule's ``train_on``), checked at fit start:
    #: ``"semi"`` methods need labeled and unlabeled batches; ``"labeled"`` methods, when
    #: a label split is given, must see only its labeled images (training on all images
    #: would read the labels of the images the split calls unlabeled). ``None``: any.
    train_on: str | None = None

    def __init__(
        self,
        backbone: Backbone | None = None,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
        lr_frequency: int = 1,
        exclude_norm_bias_decay: bool = True,
        knn_k: int = 200,
        knn_t: float = 0.1,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["backbone", "optimizer", "lr_scheduler"])
        self.backbone = backbone if backbone is not None else Backbone()
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self._knn_bank: list[torch.Tensor] = []
        self._knn_bank_labels: list[torch.Tensor] = []
        self._knn_hits = torch.zeros(3)  # top-1 hits, top-5 hits, queries
        self._cls_hits = torch.zeros(2)  # classifier top-1 hits, queries
        self.configure_models()

    # ------------------------------------------------------------------ hooks
    def configure_models(self) -> None:
        """Create heads (and teachers, queues...) on top of ``self.backbone``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features ``(B, D)`` of images ``(B, C, H, W)``."""
        return self.backbone(x)

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named embeddings of a batch: ``features`` and, for methods with a projection
        head, ``projection`` (the contrastive space)."""
        return {"features": self.backbone(x)}

    def predict_step(
        self, batch, batch_idx: int, dataloader_idx: int = 0
    ) -> dict[str, torch.Tensor]:
        """Embeddings of a batch ``(images, targets, indices)`` with the targets and the
        dataset positions, on the CPU (what :class:`ssl_core.embeddings.EmbeddingWriter`
        writes; the positions place each row, see there)."""
        images, targets, indices = batch[0], batch[1], batch[2]
        out = {k: v.detach().float().cpu() for k, v in self.embed(images).items()}
        return {**out, "labels": targets.detach().cpu(), "indices": indices.detach().cpu()}

    def classify(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor | None:
        """Class logits ``(B, num_classes)`` of images ``(B, C, H, W)`` with backbone
        ``features`` ``(B, D)``, for the ``val/top1`` probe: ``self.classifier(features)``
        when the method has a ``classifier`` head, else ``None`` (no probe)."""
        head = getattr(self, "classifier", None)
        return head(features) if head is not None else None

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

    # ------------------------------------------------------------- optimizers
    def parameter_groups(self) -> list[dict]:
        """Parameter groups; methods with extra trainable modules extend this list."""
        if not self.hparams.exclude_norm_bias_decay:
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
        if self.hparams.lr_interval == "step":
            total = self.trainer.estimated_stepping_batches
        else:
            total = self.trainer.max_epochs if self.trainer.max_epochs not in (None, -1) else 1
        return max(int(total) // self.hparams.lr_frequency, 1)

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
                "interval": self.hparams.lr_interval,
                "frequency": self.hparams.lr_frequency,
            },
        }

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        self.on_after_optimizer_step()

    def on_after_optimizer_step(self) -> None:
        """Called once after every optimizer step (not every batch under gradient
        accumulation): the place for momentum-encoder / EMA-teacher updates."""

    # ---------------------------------------------------------- online kNN
    def on_validation_epoch_start(self) -> None:
        self._knn_bank, self._knn_bank_labels = [], []
        self._knn_hits = torch.zeros(3, device=self.device)
        self._cls_hits = torch.zeros(2, device=self.device)

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        images, targets = batch[0], batch[1]
        features = self.backbone(images)
        if dataloader_idx == 0:  # memory bank: labeled training images
            self._knn_bank.append(features.detach())
            self._knn_bank_labels.append(targets)
            return
        logits = self.classify(images, features)
        if logits is not None:  # classifier accuracy on the queries
            self._cls_hits += torch.stack(
                [
                    (logits.argmax(dim=1) == targets).sum(),
                    torch.tensor(len(targets), device=targets.device),
                ]
            ).float()
        if isinstance(self._knn_bank, list):  # first query batch: gather the bank once
            if not self._knn_bank:
                return
            bank = self._gather(torch.cat(self._knn_bank))
            labels = self._gather(torch.cat(self._knn_bank_labels))
            self._knn_bank, self._knn_bank_labels = bank, labels
        num_classes = self._num_classes()
        ranked = knn_classify(
            features,
            self._knn_bank,
            self._knn_bank_labels,
            num_classes,
            k=self.hparams.knn_k,
            t=self.hparams.knn_t,
        )
        top5 = min(5, num_classes)
        self._knn_hits += torch.stack(
            [
                (ranked[:, 0] == targets).sum(),
                (ranked[:, :top5] == targets.view(-1, 1)).any(1).sum(),
                torch.tensor(len(targets), device=targets.device),
            ]
        ).float()

    def on_validation_epoch_end(self) -> None:
        stage = "test" if self.trainer.testing else "val"
        if self._cls_hits[1] > 0:
            hits, n = self.trainer.strategy.reduce(self._cls_hits, reduce_op="sum")
            self.log(f"{stage}/top1", hits / n.clamp(min=1))
        if isinstance(self._knn_bank, list):  # no queries ran
            return
        top1, top5, n = self.trainer.strategy.reduce(self._knn_hits, reduce_op="sum")
        self.log(f"{stage}/knn_top1", top1 / n.clamp(min=1))
        self.log(f"{stage}/knn_top5", top5 / n.clamp(min=1))
        self._knn_bank, self._knn_bank_labels = [], []

    # `train test`: the same probes on the test loaders, logged as test/knn_top1, ...
    def on_test_epoch_start(self) -> None:
        self.on_validation_epoch_start()

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.validation_step(batch, batch_idx, dataloader_idx)

    def on_test_epoch_end(self) -> None:
        self.on_validation_epoch_end()

    def _gather(self, x: torch.Tensor) -> torch.Tensor:
        if self.trainer.world_size == 1:
            return x
        return self.all_gather(x).flatten(0, 1)

    def _num_classes(self) -> int:
        n = getattr(self.trainer.datamodule, "num_classes", None)
        return int(n) if n else int(self._knn_bank_labels.max()) + 1
