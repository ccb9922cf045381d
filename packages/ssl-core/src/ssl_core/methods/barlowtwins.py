"""Barlow Twins: redundancy reduction between the embeddings of two views, their
cross-correlation matrix driven to the identity.

- [0] Barlow Twins, Zbontar et al. 2021, https://arxiv.org/abs/2103.03230
"""

from __future__ import annotations

from lightly.loss import BarlowTwinsLoss
from lightly.models.modules import BarlowTwinsProjectionHead

from ssl_core.methods.base import BaseMethod


class BarlowTwins(BaseMethod):
    """Barlow Twins on lightly's ``BarlowTwinsLoss`` and ``BarlowTwinsProjectionHead``.

    Args:
        projection_dim: Output width of the projector (8192 in [0]).
        hidden_dim: Hidden width of the projector (8192 in [0]).
        lambda_param: Weight of the redundancy-reduction term (5e-3 in [0]).
        gather_distributed: Sum the cross-correlation matrix over DDP ranks (as [0]).
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        projection_dim: int = 2048,
        hidden_dim: int = 2048,
        lambda_param: float = 5e-3,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.criterion = BarlowTwinsLoss(lambda_param, gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = self.projection_mlp(BarlowTwinsProjectionHead)
