"""SimCLR: contrastive learning of visual representations.

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709

Two augmented views of each image; NT-Xent pulls their projections together and pushes
away the other 2B-2 projections of the batch. With ``gather_distributed=True`` the
negatives come from all DDP ranks (lightly's ``NTXentLoss``), so the effective batch is
the global one.
"""

from __future__ import annotations

import torch
from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead

from ssl_core.methods.base import BaseMethod


class SimCLR(BaseMethod):
    """SimCLR on lightly's ``NTXentLoss`` and ``SimCLRProjectionHead``.

    Args:
        projection_dim: Output width of the projection head (the contrastive space);
            2-8 gives a space that can be plotted directly.
        hidden_dim: Hidden width of the projection head.
        num_layers: Layers of the projection head (2 in SimCLR v1).
        temperature: NT-Xent temperature (0.5 in lightly's Imagenette benchmark).
        gather_distributed: Gather negatives across DDP ranks.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        projection_dim: int = 128,
        hidden_dim: int = 2048,
        num_layers: int = 2,
        temperature: float = 0.5,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        self.projection_dim = projection_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        super().__init__(**kwargs)
        self.save_hyperparameters(ignore=["backbone", "optimizer", "lr_scheduler"])
        self.criterion = NTXentLoss(temperature=temperature, gather_distributed=gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = SimCLRProjectionHead(
            input_dim=self.backbone.num_features,
            hidden_dim=self.hidden_dim,
            output_dim=self.projection_dim,
            num_layers=self.num_layers,
        )

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        return {"features": features, "projection": self.projection_head(features)}

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x0, x1 = batch["views"][:2]
        z0 = self.projection_head(self.backbone(x0))
        z1 = self.projection_head(self.backbone(x1))
        loss = self.criterion(z0, z1)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(x0))
        return loss
