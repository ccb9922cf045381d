"""SemiSupCon: contrastive learning on all images, supervised on the labeled ones.

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709
- [1] SupCon, Khosla et al. 2020, https://arxiv.org/abs/2004.11362

Details: docs/methods.md, "SemiSupCon".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead

from ssl_core.data.views import cat, size
from ssl_core.losses.supcon import SupConLoss
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.classifier import ClassifierMixin


class SemiSupCon(ClassifierMixin, BaseMethod):
    """NT-Xent on all images + SupCon and/or cross-entropy on labeled images.

    Batches (``data.train_on: semi``): two views of labeled ``(B, C, H, W)`` and of
    unlabeled ``(mu * B, C, H, W)`` images, labels ``(B,)``.

    Args:
        projection_dim: Width of the contrastive space (2-8 for a plottable space).
        hidden_dim: Hidden width of the projection head.
        num_layers: Layers of the projection head.
        temperature: NT-Xent temperature (0.5 in lightly's Imagenette benchmark).
        supcon_temperature: SupCon temperature (0.1 in [1]).
        lambda_ntxent: Weight of NT-Xent on all images.
        lambda_supcon: Weight of SupCon on labeled images.
        lambda_ce: Weight of the classifier's cross-entropy on labeled images.
        gather_distributed: Gather negatives across DDP ranks.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "semi"
    classifier_weight = "lambda_ce"

    def __init__(
        self,
        projection_dim: int = 128,
        hidden_dim: int = 2048,
        num_layers: int = 2,
        temperature: float = 0.5,
        supcon_temperature: float = 0.1,
        lambda_ntxent: float = 1.0,
        lambda_supcon: float = 1.0,
        lambda_ce: float = 1.0,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        if not (lambda_ntxent or lambda_supcon or lambda_ce):
            raise ValueError("SemiSupCon needs at least one of lambda_ntxent/supcon/ce > 0")
        super().__init__(**kwargs)
        self.ntxent = NTXentLoss(temperature=temperature, gather_distributed=gather_distributed)
        self.supcon = SupConLoss(supcon_temperature, gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = self.projection_mlp(SimCLRProjectionHead)
        super().configure_models()  # the classifier

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        (l0, l1), labels = batch["labeled"]["views"][:2], batch["labeled"]["label"]
        u0, u1 = batch["unlabeled"]["views"][:2]
        n_l, n_u = size(l0), size(u0)
        features = self.backbone(cat([l0, u0, l1, u1]))
        z = self.projection_head(features)
        z0, z1 = z[: n_l + n_u], z[n_l + n_u :]
        f_l = torch.cat([features[:n_l], features[n_l + n_u : 2 * n_l + n_u]])

        losses = {}
        if self.hparams.lambda_ntxent:
            losses["ntxent"] = self.ntxent(z0, z1)
        if self.hparams.lambda_supcon:
            losses["supcon"] = self.supcon([z0[:n_l], z1[:n_l]], labels)
        if self.hparams.lambda_ce:
            losses["ce"] = F.cross_entropy(self.classifier(f_l), labels.repeat(2))
        loss = sum(self.hparams[f"lambda_{k}"] * v for k, v in losses.items())

        values = {f"loss_{name}": value for name, value in losses.items()}
        self.log_train({"loss": loss, **values}, batch_size=n_l + n_u)
        return loss
