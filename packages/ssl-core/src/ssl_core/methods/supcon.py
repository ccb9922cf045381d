"""SupCon: supervised contrastive learning on the labeled images.

- [0] SupCon, Khosla et al. 2020, https://arxiv.org/abs/2004.11362

Two augmented views of each labeled image; all views of images of the same class are
positives of each other, everything else in the (global) batch is a negative
(:class:`~ssl_core.losses.SupConLoss`). The datamodule serves labeled images only
(``data.train_on: labeled``).
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
        """Refuse a batch with unlabeled images (label -1)."""
        if (labels < 0).any():
            raise ValueError(
                f"{type(self).__name__} trains on labeled images only, but the batch holds "
                "unlabeled ones (label -1): serve the labeled part of the split (e.g. "
                "train_on: labeled)."
            )

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        views, labels = batch["views"], batch["label"]
        self.check_labeled(labels)
        # all views in one pass, as [0]'s code: one set of batch-norm statistics
        z = self.projection_head(self.backbone(cat(views)))
        z = torch.stack(z.chunk(len(views)), dim=1)  # (B, V, D)
        loss = self.criterion(z, labels)
        self.log_train({"loss": loss}, batch_size=len(labels))
        return loss
