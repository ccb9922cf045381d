"""SupConClassifier: supervised contrastive loss plus a classifier, in a low-dimensional space.

- [0] SupCon, Khosla et al. 2020, https://arxiv.org/abs/2004.11362
- [1] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (the MLP projection
  head, and the released ResNet-50 checkpoints this can start from)

Details, logged values and departures from [0]: docs/methods.md, "SupConClassifier".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.losses import SupConLoss
from ssl_core.methods.classifier import ClassifierMixin
from ssl_core.methods.supcon import SupCon


class SupConClassifier(ClassifierMixin, SupCon):
    """SupCon + cross-entropy of a linear classifier on the normalized projection.

    Training batches hold V >= 1 ``views`` ``(B, C, H, W)`` and ``label`` ``(B,)``, all
    labeled.

    Args:
        projection_dim: Width of the normalized space (2-8 to plot it; 128 in [0]).
        hidden_dim: Hidden width of the projector (2048 in [0] for a ResNet-50).
        num_layers: Linear layers of the projector (2 in [0]).
        temperature: SupCon temperature (0.1 in [0]; 0.5 in the low-dimensional recipe).
        ce_weight: Weight lambda of the cross-entropy (0 = SupCon only: no classifier).
        label_smoothing: Cross-entropy label smoothing (0 = none).
        freeze_backbone: Train the projector and classifier only.
        gather_distributed: Contrast with the samples of every DDP rank in training.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    classifier_weight = "ce_weight"

    def __init__(
        self,
        projection_dim: int = 4,
        hidden_dim: int = 2048,
        num_layers: int = 2,
        temperature: float = 0.5,
        ce_weight: float = 1.0,
        label_smoothing: float = 0.0,
        freeze_backbone: bool = False,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        kwargs.update(projection_dim=projection_dim, hidden_dim=hidden_dim, num_layers=num_layers)
        super().__init__(temperature=temperature, gather_distributed=gather_distributed, **kwargs)
        # Evaluation batches differ in size across DDP ranks: each rank contrasts its own.
        self.eval_criterion = SupConLoss(temperature=temperature)
        self.cross_entropy = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        if freeze_backbone:
            self.freeze_backbone_()

    def classifier_features(self) -> int:
        return self.hparams.projection_dim  # the classifier reads the normalized projection

    def project(self, features: torch.Tensor) -> torch.Tensor:
        """L2-normalized projections ``(B, projection_dim)`` of features ``(B, D)``."""
        return F.normalize(self.projection_head(features), dim=1)

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        return {"features": features, "projection": self.project(features)}

    def classify(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor | None:
        head = getattr(self, "classifier", None)
        return head(self.project(features)) if head is not None else None

    def losses(self, features: torch.Tensor, labels: torch.Tensor, views: int = 1) -> dict:
        """``loss`` (SupCon + ce_weight * CE), ``loss_supcon``, ``loss_ce`` (0 without a
        classifier) and the classifier's detached ``top1`` of backbone features
        ``(V * B, D)`` of V views (view-major, as ``backbone(cat(views))``) of B images
        with ``labels`` ``(B,)``. Training contrasts across DDP ranks, evaluation not."""
        z = self.project(features)  # (V * B, P)
        criterion = self.criterion if self.training else self.eval_criterion
        supcon = criterion(torch.stack(z.chunk(views), dim=1), labels)  # (B, V, P)
        out = {"loss": supcon, "loss_supcon": supcon, "loss_ce": torch.zeros_like(supcon)}
        if self.classifier is not None:
            logits, targets = self.classifier(z), labels.repeat(views)
            out["loss_ce"] = self.cross_entropy(logits, targets)
            out["loss"] = supcon + self.hparams.ce_weight * out["loss_ce"]
            out["top1"] = (logits.argmax(dim=1) == targets).float().mean().detach()
        return out

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        """The probes (:class:`BaseMethod`) and, on the queries (dataloader 1), the
        training loss on the evaluation view, from the same backbone features."""
        features = super().validation_step(batch, batch_idx, dataloader_idx)
        if dataloader_idx != 1:  # dataloader 0 is the kNN's memory bank
            return
        if features is None:  # no probes (one class): the features are not computed yet
            features = self.backbone(batch["image"])
        losses = self.losses(features, batch["label"])
        losses.pop("top1", None)
        stage = "test" if self.trainer.testing else "val"
        logged = {f"{stage}/{name}": value for name, value in losses.items()}
        n = len(batch["label"])
        self.log_dict(logged, on_epoch=True, batch_size=n, sync_dist=True, add_dataloader_idx=False)
