"""MoCo v2: momentum contrast with a queue of negatives. Details and departures from [1]:
docs/methods.md, "MoCo".

- [0] MoCo, He et al. 2020, https://arxiv.org/abs/1911.05722
- [1] MoCo v2, Chen et al. 2020, https://arxiv.org/abs/2003.04297
"""

from __future__ import annotations

import torch
from lightly.loss import NTXentLoss
from lightly.models.modules import MoCoProjectionHead

from ssl_core.data.views import size
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.ema import MomentumCopiesMixin, frozen_copy


class MoCo(MomentumCopiesMixin, BaseMethod):
    """MoCo v2 on lightly's ``MoCoProjectionHead`` and ``NTXentLoss`` with a memory bank.

    Args:
        projection_dim: Output width of the head (128 in [1]).
        hidden_dim: Hidden width of the head (2048 in [1]).
        temperature: Contrastive temperature (0.2 in [1]).
        memory_bank_size: Number of keys in the queue (65536 in [1]; a few thousand
            suffice for small datasets).
        momentum_base: Momentum of the key encoder (at the first step if cosine; 0.999 in
            [1], 0.99 in lightly's Imagenette benchmark).
        momentum_cosine: Raise the momentum to 1 over the run on a cosine.
        gather_distributed: Gather keys from all DDP ranks before queuing them.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        projection_dim: int = 128,
        hidden_dim: int = 2048,
        temperature: float = 0.2,
        memory_bank_size: int = 4096,
        momentum_base: float = 0.99,
        momentum_cosine: bool = True,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        bank = (memory_bank_size, projection_dim)  # the queue of keys
        self.criterion = NTXentLoss(temperature, bank, gather_distributed)

    def configure_models(self) -> None:
        self.projection_head = self.projection_mlp(MoCoProjectionHead)
        self.backbone_momentum = frozen_copy(self.backbone)
        self.projection_head_momentum = frozen_copy(self.projection_head)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x0, x1 = batch["views"][:2]
        q0, q1 = self.projections([x0, x1])
        with torch.no_grad():
            k0 = self.projection_head_momentum(self.backbone_momentum(x0))
            k1 = self.projection_head_momentum(self.backbone_momentum(x1))
        # Symmetrized in one call: the criterion queues its second argument after using
        # it, so a second call would find k1 among q1's negatives (its own image's key).
        loss = self.criterion(torch.cat([q0, q1]), torch.cat([k1, k0]))
        self.log_train({"loss": loss}, batch_size=size(x0))
        return loss

    # lightly's queue is a non-persistent buffer: saved here for a resumed run
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        bank = self.criterion.memory_bank
        checkpoint["moco_queue"] = {"bank": bank.bank.clone(), "bank_ptr": bank.bank_ptr.clone()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get("moco_queue")
        if saved is None:
            return
        bank = self.criterion.memory_bank
        if saved["bank"].shape != bank.bank.shape:
            raise ValueError(
                f"The checkpoint's MoCo queue is {tuple(saved['bank'].shape)}, this model's "
                f"{tuple(bank.bank.shape)}: memory_bank_size/projection_dim differ."
            )
        bank.bank.copy_(saved["bank"])
        bank.bank_ptr.copy_(saved["bank_ptr"])

    def momentum(self, step: int) -> float:
        if not self.hparams.momentum_cosine:
            return self.hparams.momentum_base
        return super().momentum(step)
