"""VICReg: variance-invariance-covariance regularization. Details: docs/methods.md, "VICReg".

- [0] VICReg, Bardes et al. 2022, https://arxiv.org/abs/2105.04906
"""

from __future__ import annotations

from lightly.loss import VICRegLoss
from lightly.models.modules.heads import VICRegProjectionHead

from ssl_core.methods.base import BaseMethod


class VICReg(BaseMethod):
    """VICReg on lightly's ``VICRegLoss`` and ``VICRegProjectionHead``.

    Args:
        projection_dim: Output width of the expander (8192 in [0]).
        hidden_dim: Hidden width of the expander (8192 in [0]).
        num_layers: Layers of the expander (3 in [0]).
        lambda_param: Weight of the invariance term (25 in [0]).
        mu_param: Weight of the variance term (25 in [0]).
        nu_param: Weight of the covariance term (1 in [0]).
        gather_distributed: Compute variance and covariance over the global batch.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        projection_dim: int = 2048,
        hidden_dim: int = 2048,
        num_layers: int = 3,
        lambda_param: float = 25.0,
        mu_param: float = 25.0,
        nu_param: float = 1.0,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.criterion = VICRegLoss(lambda_param, mu_param, nu_param, gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = self.projection_mlp(VICRegProjectionHead)
