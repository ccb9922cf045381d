"""BYOL: bootstrap your own latent. Details and departures: docs/methods.md, "BYOL".

- [0] BYOL, Grill et al. 2020, https://arxiv.org/abs/2006.07733
"""

from __future__ import annotations

import torch
from lightly.loss import NegativeCosineSimilarity
from lightly.models.modules import BYOLPredictionHead, BYOLProjectionHead

from ssl_core.data.views import size
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.ema import MomentumCopiesMixin, frozen_copy


class BYOL(MomentumCopiesMixin, BaseMethod):
    """BYOL on lightly's heads and ``NegativeCosineSimilarity``.

    Args:
        projection_dim: Output width of projector and predictor (256 in [0]).
        hidden_dim: Hidden width of projector and predictor (4096 in [0]).
        momentum_base: The target's momentum at the first step, raised to 1 (0.996 in [0]).
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        projection_dim: int = 256,
        hidden_dim: int = 4096,
        momentum_base: float = 0.996,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.criterion = NegativeCosineSimilarity()

    def configure_models(self) -> None:
        h = self.hparams
        self.projection_head = self.projection_mlp(BYOLProjectionHead)
        self.prediction_head = BYOLPredictionHead(h.projection_dim, h.hidden_dim, h.projection_dim)
        self.backbone_momentum = frozen_copy(self.backbone)
        self.projection_head_momentum = frozen_copy(self.projection_head)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x0, x1 = batch["views"][:2]
        p0 = self.prediction_head(self.projection_head(self.backbone(x0)))
        p1 = self.prediction_head(self.projection_head(self.backbone(x1)))
        with torch.no_grad():
            z0 = self.projection_head_momentum(self.backbone_momentum(x0))
            z1 = self.projection_head_momentum(self.backbone_momentum(x1))
        loss = 0.5 * (self.criterion(p0, z1) + self.criterion(p1, z0))  # [0]: 2 - 2 cos
        self.log_train({"loss": loss}, batch_size=size(x0))
        return loss
