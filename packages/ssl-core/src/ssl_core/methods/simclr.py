"""SimCLR: contrastive learning of visual representations. Details: docs/methods.md, "SimCLR".

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709
"""

from __future__ import annotations

from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead

from ssl_core.methods.base import BaseMethod


class SimCLR(BaseMethod):
    """SimCLR on lightly's ``NTXentLoss`` and ``SimCLRProjectionHead``.

    Args:
        projection_dim: Width of the contrastive space (2-8 for a plottable space).
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
        super().__init__(**kwargs)
        self.criterion = NTXentLoss(temperature=temperature, gather_distributed=gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = self.projection_mlp(SimCLRProjectionHead)
