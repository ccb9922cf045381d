"""FixMatch: consistency between weak and strong views, with confident pseudo-labels.

- [0] FixMatch, Sohn et al. 2020, https://arxiv.org/abs/2001.07685

Per step, B labeled images (one weak view) and mu * B unlabeled images (a weak and a
strong view, ``data.unlabeled_ratio`` = mu). The labeled loss is cross-entropy on the
weak views. For each unlabeled image, the class predicted on its weak view becomes a
pseudo-label when its probability reaches ``threshold``; the strong view is trained to
predict it (eq. 2-4 of [0]). All views go through the network in one batch, so that
batch-norm sees labeled and unlabeled images together, as in the reference code.

Paper settings (CIFAR-10): threshold 0.95, mu 7, lambda_u 1, B 64, SGD with Nesterov
momentum 0.9, lr 0.03, weight decay 5e-4, cosine decay, RandAugment + Cutout.
Departures: evaluation uses the trained model, not an EMA of its weights (the paper
reports the EMA, decay 0.999); the weak view is a mild random resized crop + flip
(:func:`ssl_core.transforms.weak_pipeline`) instead of flip + 12.5% translation.
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
        """Masked cross-entropy of the strong view against the weak view's hard label.

        Args:
            logits_weak: Logits ``(N, C)`` of the weak views (no gradient flows back).
            logits_strong: Logits ``(N, C)`` of the strong views.

        Returns:
            The loss (mean over all N images, masked ones counting as 0, as in [0]) and
            the mask ``(N,)`` (1.0 where the pseudo-label is used).
        """
        probs = F.softmax(logits_weak.detach() / self.temperature, dim=1)
        confidence, pseudo_labels = probs.max(dim=1)
        mask = (confidence >= self.threshold).float()
        loss = (F.cross_entropy(logits_strong, pseudo_labels, reduction="none") * mask).mean()
        return loss, mask


class FixMatch(ClassifierMixin, BaseMethod):
    """FixMatch with a linear classifier on the backbone.

    Batches (``data.train_on: semi``): ``{"labeled": {"views": [weak], "label",
    "index"}, "unlabeled": {"views": [weak, strong], "index"}}``, views ``(B, C, H, W)``
    and ``(mu * B, C, H, W)``, labels ``(B,)``.

    Args:
        num_classes: Outputs of the classifier; ``None``: the data's number of classes
            (:mod:`~ssl_core.methods.classifier`).
        threshold: Pseudo-label confidence threshold tau (0.95 in [0]).
        lambda_u: Weight of the unlabeled loss (1 in [0]).
        temperature: Softmax temperature of the weak-view prediction.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "semi"

    def __init__(
        self,
        num_classes: int | None = None,
        threshold: float = 0.95,
        lambda_u: float = 1.0,
        temperature: float = 1.0,
        **kwargs,
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
