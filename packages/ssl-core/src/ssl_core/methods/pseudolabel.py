"""Pseudo-Label: self-training on the model's own confident predictions.

- [0] Pseudo-Label, Lee 2013, ICML 2013 Workshop on Challenges in Representation
  Learning
- [1] Oliver et al. 2018, https://arxiv.org/abs/1804.09170 (the variant with a
  confidence threshold used here)

Details: docs/methods.md, "PseudoLabel".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_core.data.views import cat, size
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.classifier import ClassifierMixin
from ssl_core.methods.rampups import linear_rampup


class PseudoLabel(ClassifierMixin, BaseMethod):
    """Pseudo-Label with a linear classifier on the backbone.

    Batches (``data.train_on: semi``): one weak view of labeled and of unlabeled images.

    Args:
        threshold: Confidence of a pseudo-label (0: Lee's original, every prediction).
        unlabeled_weight: Final weight of the unlabeled loss (alpha_f).
        rampup_start: Where the weight starts to rise (T1), a share of the run.
        rampup_end: Where it reaches ``unlabeled_weight`` (T2), a share of the run.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "semi"

    def __init__(
        self,
        threshold: float = 0.95,
        unlabeled_weight: float = 1.0,
        rampup_start: float = 0.0,
        rampup_end: float = 0.4,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x_l, labels = batch["labeled"]["views"][0], batch["labeled"]["label"]
        x_u = batch["unlabeled"]["views"][0]
        logits = self.classifier(self.backbone(cat([x_l, x_u])))
        logits_l, logits_u = logits.split([size(x_l), size(x_u)])

        loss_l = F.cross_entropy(logits_l, labels)
        confidence, pseudo_labels = F.softmax(logits_u.detach(), dim=1).max(dim=1)
        mask = (confidence >= self.hparams.threshold).float()
        loss_u = (F.cross_entropy(logits_u, pseudo_labels, reduction="none") * mask).mean()
        h, total = self.hparams, self.trainer.estimated_stepping_batches
        ramp = linear_rampup(self.global_step, h.rampup_start * total, h.rampup_end * total)
        weight = h.unlabeled_weight * ramp
        loss = loss_l + weight * loss_u

        values = {"loss": loss, "loss_labeled": loss_l, "loss_unlabeled": loss_u}
        self.log_train({**values, "mask": mask.mean()}, batch_size=size(x_l))
        self.log("train/unlabeled_weight", weight, on_step=True, on_epoch=False)
        return loss
