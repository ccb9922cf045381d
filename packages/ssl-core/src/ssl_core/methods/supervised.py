"""Supervised baseline: cross-entropy on the labeled images only. Details: docs/methods.md,
"Supervised, FineTune".

- [0] Oliver et al. 2018, Realistic Evaluation of Deep Semi-Supervised Learning
  Algorithms, https://arxiv.org/abs/1804.09170
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_core.data.views import cat
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.classifier import ClassifierMixin


class Supervised(ClassifierMixin, BaseMethod):
    """Backbone + linear classifier trained with cross-entropy.

    Batches hold V ``views`` ``(B, C, H, W)`` (usually one weak view), each a training
    sample with the image's ``label`` ``(B,)``.

    Args:
        label_smoothing: Cross-entropy label smoothing (0 = none).
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "labeled"

    def __init__(self, label_smoothing: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        views, labels = batch["views"], batch["label"]
        labels = labels.repeat(len(views))
        logits = self.classifier(self.backbone(cat(views)))
        loss = self.criterion(logits, labels)
        top1 = (logits.argmax(dim=1) == labels).float().mean()
        self.log_train({"loss": loss}, batch_size=len(labels))
        self.log("train/top1", top1, on_step=False, on_epoch=True, batch_size=len(labels))
        return loss
