"""SupCon: supervised contrastive learning on the labeled images. Details: docs/methods.md,
"SupCon and its loss".

- [0] SupCon, Khosla et al. 2020, https://arxiv.org/abs/2004.11362
"""

from __future__ import annotations

import torch
from lightly.models.modules import SimCLRProjectionHead

from ssl_core.data.views import cat
from ssl_core.losses import SupConLoss
from ssl_core.methods.base import BaseMethod


class SupCon(BaseMethod):
    """Supervised contrastive learning (SupCon) with a SimCLR projection head.

    Batches hold V >= 1 ``views`` ``(B, C, H, W)`` (two in [0]) and ``label`` ``(B,)``;
    a batch with unlabeled samples (label ``-1``) is refused.

    Args:
        projection_dim: Output width of the projection head (128 in [0]).
        hidden_dim: Hidden width of the projection head (2048 in [0] for ResNet-50).
        num_layers: Layers of the projection head (2 in [0]).
        temperature: Softmax temperature (0.1 in [0]).
        gather_distributed: Gather positives and negatives across DDP ranks.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "labeled"

    def __init__(
        self,
        projection_dim: int = 128,
        hidden_dim: int = 2048,
        num_layers: int = 2,
        temperature: float = 0.1,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.criterion = SupConLoss(temperature=temperature, gather_distributed=gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = self.projection_mlp(SimCLRProjectionHead)

    def check_labeled(self, labels: torch.Tensor) -> None:
        if (labels < 0).any():
            raise ValueError(
                f"{type(self).__name__} trains on labeled images only, but the batch holds "
                "unlabeled ones (label -1): serve the labeled part of the split (e.g. "
                "train_on: labeled)."
            )

    def losses(self, features: torch.Tensor, labels: torch.Tensor, views: int = 1) -> dict:
        """``loss`` of backbone features ``(V * B, D)`` of V views (view-major, as
        ``backbone(cat(views))``) of B images with ``labels`` ``(B,)``."""
        z = self.projection_head(features)
        return {"loss": self.criterion(torch.stack(z.chunk(views), dim=1), labels)}  # (B, V, D)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        views, labels = batch["views"], batch["label"]
        self.check_labeled(labels)
        # all views in one pass, as [0]'s code: one set of batch-norm statistics
        losses = self.losses(self.backbone(cat(views)), labels, len(views))
        top1 = losses.pop("top1", None)  # a classifier's (SupConClassifier)
        self.log_train(losses, batch_size=len(labels))
        if top1 is not None:
            self.log("train/top1", top1, on_step=False, on_epoch=True, batch_size=len(labels))
        return losses["loss"]
