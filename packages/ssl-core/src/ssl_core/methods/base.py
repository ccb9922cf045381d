"""The small base LightningModule every embedding/classification method extends.
Details: docs/methods.md, "Validation probes (`BaseMethod`)", "Batches".
"""

from __future__ import annotations

import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import nn
from torchmetrics.classification import BinaryROC, MulticlassAccuracy
from torchmetrics.utilities import dim_zero_cat
from torchmetrics.utilities.distributed import gather_all_tensors

from ssl_core.backbones import Backbone
from ssl_core.data.views import size
from ssl_core.knn import knn_scores
from ssl_core.task import TaskModule
from ssl_core.two_class import SIGNAL_EFFICIENCIES, rejection_at, rejection_interval


class BaseMethod(TaskModule):
    """Backbone + heads, injected optimizer/scheduler, optional online kNN.

    Args:
        backbone: The feature extractor, any module with ``num_features`` (images:
            :class:`ssl_core.backbones.Backbone`; jets: :mod:`ssl_core.points.backbones`).
        online_knn: Run the kNN probe on validation/test (off: data without labels).
        knn_k: Neighbours of the online kNN probe.
        knn_t: Temperature of the online kNN probe.
        **kwargs: :class:`~ssl_core.task.TaskModule` arguments (optimizer, lr_scheduler,
            lr_interval, lr_frequency, exclude_norm_bias_decay).
    """

    test_metrics = {
        "test/roc_auc": "test_roc_auc",
        "test/rejection_eff30": "test_rejection_eff30",
        "test/rejection_eff30_lo": "test_rejection_eff30_lo",
        "test/rejection_eff30_hi": "test_rejection_eff30_hi",
        "test/top1": "test_top1",
        "test/knn_top1": "test_knn_top1",
    }
    #: a comparison compares classifiers: their ROC AUC on two-class data, else top-1
    headlines = ("test/roc_auc", "test/top1")

    def __init__(
        self,
        backbone: nn.Module | None = None,
        online_knn: bool = True,
        knn_k: int = 200,
        knn_t: float = 0.1,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        # also saves every subclass's __init__ arguments (Lightning walks up the frames)
        self.save_hyperparameters(ignore=["backbone", "optimizer", "lr_scheduler"])
        self.backbone = backbone if backbone is not None else Backbone()
        self._knn_bank = self._knn_bank_labels = None  # per validation: lists, then gathered
        self.configure_models()

    def configure_models(self) -> None:
        """Create heads (and teachers, queues...) on top of ``self.backbone``."""

    def projection_mlp(self, head: type[nn.Module]) -> nn.Module:
        """A lightly projection head of the backbone's features, sized by ``hparams``
        (``hidden_dim``, ``projection_dim`` and, where the method has it, ``num_layers``)."""
        h = self.hparams
        layers = {"num_layers": h.num_layers} if "num_layers" in h else {}
        return head(self.backbone.num_features, h.hidden_dim, h.projection_dim, **layers)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        """The criterion of two ``views``' projections (SimCLR, VICReg, Barlow Twins)."""
        views = batch["views"][:2]
        loss = self.criterion(*self.projections(views))
        self.log_train({"loss": loss}, batch_size=size(views[0]))
        return loss

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features ``(B, D)`` of images ``(B, C, H, W)``."""
        return self.backbone(x)

    def freeze_backbone_(self) -> None:
        """Freeze the backbone: no gradients, out of the optimizer, kept in eval mode
        (its batch-norm statistics are the checkpoint's), see :meth:`train`."""
        self.backbone.requires_grad_(False)
        self.backbone.eval()

    def train(self, mode: bool = True) -> BaseMethod:
        """``nn.Module.train``, keeping a frozen backbone in eval mode."""
        super().train(mode)
        backbone = getattr(self, "backbone", None)
        if backbone is not None and not any(p.requires_grad for p in backbone.parameters()):
            backbone.eval()
        return self

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``features`` ``(B, D)`` of images ``(B, C, H, W)`` and, for methods with a
        ``projection_head``, ``projection`` (the contrastive space)."""
        out = {"features": self.backbone(x)}
        if getattr(self, "projection_head", None) is not None:
            out["projection"] = self.projection_head(out["features"])
        return out

    def projections(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """``projection_head(backbone(x))`` of each view ``(B, C, H, W)``, one pass per
        view (each view's own batch-norm statistics)."""
        return [self.projection_head(self.backbone(x)) for x in views]

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> dict:
        """Embeddings, labels, dataset positions and (methods with a classifier)
        ``logits`` of a batch, on the CPU (:class:`ssl_core.embeddings.EmbeddingWriter`)."""
        out = self.embed(batch["image"])
        logits = self.classify(batch["image"], out["features"])
        if logits is not None:
            out["logits"] = logits
        out = {k: v.detach().float().cpu() for k, v in out.items()}
        return {**out, "labels": batch["label"].cpu(), "indices": batch["index"].cpu()}

    def classify(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor | None:
        """Logits ``(B, num_classes)`` of images with backbone ``features`` ``(B, D)`` for
        the ``val/top1`` probe; ``None`` without a ``classifier`` head."""
        head = getattr(self, "classifier", None)
        return head(features) if head is not None else None

    def input_channels(self) -> tuple[str, int | None]:
        """The backbone's ``in_channels`` or (set backbones) ``in_features``, checked
        against the data's channels."""
        # in_features only of a backbone of ours (num_features): nn.Linear has one too
        ours = hasattr(self.backbone, "num_features")
        for name in ("in_channels", "in_features") if ours else ("in_channels",):
            if getattr(self.backbone, name, None) is not None:
                return f"model.init_args.backbone.init_args.{name}", getattr(self.backbone, name)
        return "model.init_args.backbone.init_args.in_channels", None

    def setup(self, stage: str) -> None:
        """Check the data; create the probes' metrics for its number of classes."""
        super().setup(stage)
        n = int(getattr(self.datamodule(), "num_classes", 0) or 0)
        if n == 1 and not hasattr(self, "knn_top1"):
            rank_zero_info("One class in the data: no online kNN or probe (nothing to tell apart)")
        if n >= 2 and not hasattr(self, "knn_top1"):
            self.knn_top1 = MulticlassAccuracy(n, top_k=1, average="micro")
            self.knn_top5 = MulticlassAccuracy(n, top_k=min(5, n), average="micro")
            self.cls_top1 = MulticlassAccuracy(n, top_k=1, average="micro")
        dm = self.datamodule()
        signal = dm.source.signal_class if dm is not None else None
        if n == 2 and signal is not None and not hasattr(self, "cls_roc"):
            self.signal_class = int(signal)
            self.cls_roc = BinaryROC()  # every score kept (thresholds=None): the exact curve

    def on_validation_epoch_start(self) -> None:
        self._knn_bank, self._knn_bank_labels = [], []
        for name in ("knn_top1", "knn_top5", "cls_top1", "cls_roc"):
            if hasattr(self, name):
                getattr(self, name).reset()

    def validation_step(
        self, batch, batch_idx: int, dataloader_idx: int = 0
    ) -> torch.Tensor | None:
        """The probes' updates; returns the backbone features (``None``: no probes)."""
        if not hasattr(self, "knn_top1"):
            return None
        images, targets = batch["image"], batch["label"]
        features = self.backbone(images)
        if dataloader_idx == 0:  # memory bank: labeled training images
            if self.hparams.online_knn:
                self._knn_bank.append(features.detach())
                self._knn_bank_labels.append(targets)
            return features
        logits = self.classify(images, features)
        if logits is not None:  # classifier accuracy on the queries
            self.cls_top1.update(logits, targets)
            if hasattr(self, "cls_roc"):
                signal = logits.float().softmax(dim=1)[:, self.signal_class]
                self.cls_roc.update(signal, (targets == self.signal_class).long())
        if not self.hparams.online_knn or self._knn_bank is None:
            return features
        if isinstance(self._knn_bank, list):  # first query batch: gather the bank once
            if not self._knn_bank:
                return features
            self._knn_bank = self._gather(torch.cat(self._knn_bank))
            self._knn_bank_labels = self._gather(torch.cat(self._knn_bank_labels))
        h = self.hparams
        n = self.knn_top1.num_classes  # known since setup
        scores = knn_scores(features, self._knn_bank, self._knn_bank_labels, n, h.knn_k, h.knn_t)
        self.knn_top1.update(scores, targets)
        self.knn_top5.update(scores, targets)
        return features

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        stage = "test" if self.trainer.testing else "val"
        for name in ("cls_top1", "knn_top1", "knn_top5"):
            metric = getattr(self, name, None)
            if metric is not None and metric.update_count > 0:
                self.log(f"{stage}/{name.removeprefix('cls_')}", metric.compute())
        roc = getattr(self, "cls_roc", None)
        if roc is not None and roc.update_count > 0:  # ROC AUC and the finite rejections
            values = self._two_class(*roc.compute()[:2])
            if self.trainer.testing:  # stage is "test"
                values |= self._interval(roc)
            for name, value in values.items():
                self.log(f"{stage}/{name}", value)
        self._knn_bank, self._knn_bank_labels = None, None

    @staticmethod
    def _two_class(fpr: torch.Tensor, tpr: torch.Tensor) -> dict[str, float]:
        """ROC AUC and the finite rejections of a ROC curve (see ``rejection_at``)."""
        fpr, tpr = fpr.double().cpu().numpy(), tpr.double().cpu().numpy()
        out = {"roc_auc": float(np.trapezoid(tpr, fpr))}
        for eff in SIGNAL_EFFICIENCIES:
            rejection = rejection_at(fpr, tpr, eff)
            if rejection is not None:
                out[f"rejection_eff{round(eff * 100)}"] = rejection
        return out

    @staticmethod
    def _interval(roc: BinaryROC) -> dict[str, float]:
        """The bootstrap interval of the rejection at eps_S = 0.3 (``rejection_interval``)
        from every score ``roc`` holds; an unbounded end is left out."""
        with roc.sync_context():
            scores, y = (dim_zero_cat(x).cpu().double().numpy() for x in (roc.preds, roc.target))
        return {k: v for k, v in rejection_interval(y, scores, 1).items() if v is not None}

    def _gather(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of every rank, concatenated (ranks may hold different numbers of rows)."""
        return x if self.trainer.world_size == 1 else torch.cat(gather_all_tensors(x))
