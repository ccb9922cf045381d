"""FixMatch: consistency between weak and strong views, with confident pseudo-labels.
Details and departures from [0]: docs/methods.md, "FixMatch".

- [0] FixMatch, Sohn et al. 2020, https://arxiv.org/abs/2001.07685
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.data.views import cat, size
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.classifier import ClassifierMixin


class FixMatchLoss(nn.Module):
    """Unlabeled loss of FixMatch (eq. 4 of [0]).

    Args:
        threshold: Confidence tau above which a weak-view prediction is a pseudo-label.
        temperature: Softmax temperature of the weak-view prediction (1 in [0]).
    """

    def __init__(self, threshold: float = 0.95, temperature: float = 1.0) -> None:
        super().__init__()
        self.threshold = threshold
        self.temperature = temperature

    def forward(
        self, logits_weak: torch.Tensor, logits_strong: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy of the strong views' logits ``(N, C)`` against the weak views'
        (no gradient) confident hard labels: the loss (mean over all N images, masked ones
        counting 0, as in [0]) and the mask ``(N,)`` (1.0 where a pseudo-label is used)."""
        probs = F.softmax(logits_weak.detach() / self.temperature, dim=1)
        confidence, pseudo_labels = probs.max(dim=1)
        mask = (confidence >= self.threshold).float()
        loss = (F.cross_entropy(logits_strong, pseudo_labels, reduction="none") * mask).mean()
        return loss, mask


class FixMatch(ClassifierMixin, BaseMethod):
    """FixMatch with a linear classifier on the backbone.

    Batches (``data.train_on: semi``): labeled ``views: [weak]`` ``(B, C, H, W)`` with
    ``label`` ``(B,)``, unlabeled ``views: [weak, strong]`` ``(mu * B, C, H, W)``.

    Args:
        threshold: Pseudo-label confidence threshold tau (0.95 in [0]).
        lambda_u: Weight of the unlabeled loss (1 in [0]).
        temperature: Softmax temperature of the weak-view prediction.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "semi"

    def __init__(
        self, threshold: float = 0.95, lambda_u: float = 1.0, temperature: float = 1.0, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.unlabeled_loss = FixMatchLoss(threshold, temperature)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x_l, labels = batch["labeled"]["views"][0], batch["labeled"]["label"]
        u_weak, u_strong = batch["unlabeled"]["views"][:2]
        logits = self.classifier(self.backbone(cat([x_l, u_weak, u_strong])))
        logits_l, logits_weak, logits_strong = logits.split(
            [size(x_l), size(u_weak), size(u_strong)]
        )

        loss_l = F.cross_entropy(logits_l, labels)
        loss_u, mask = self.unlabeled_loss(logits_weak, logits_strong)
        loss = loss_l + self.hparams.lambda_u * loss_u

        # mask: the share of unlabeled images used
        values = {"loss": loss, "loss_labeled": loss_l, "loss_unlabeled": loss_u}
        self.log_train({**values, "mask": mask.mean()}, batch_size=size(x_l))
        return loss
