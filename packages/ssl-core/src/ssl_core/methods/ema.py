"""Exponential moving averages of a network (BYOL's, MoCo's and DINO's momentum copies,
the Mean Teachers' teachers), moved once per optimizer step by
:meth:`ssl_core.task.TaskModule.on_after_optimizer_step` with ``momentum(step)``.

- [0] BYOL, Grill et al. 2020, https://arxiv.org/abs/2006.07733 (the cosine schedule)
- [1] Mean Teacher, Tarvainen & Valpola 2017, https://arxiv.org/abs/1703.01780 (the
  warmup of the decay)
"""

from __future__ import annotations

import copy
import math

import torch
from lightly.models.utils import deactivate_requires_grad
from lightly.utils.scheduler import cosine_schedule
from torch import nn

from ssl_core.methods.rampups import rampup_steps, sigmoid_rampup


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` without gradients: the EMA copy's start."""
    twin = copy.deepcopy(module)
    deactivate_requires_grad(twin)
    return twin


def cosine_momentum(step: int, total: float, base: float) -> float:
    """BYOL's momentum after optimizer step ``step`` (0 first) of ``total``:
    ``tau_k = 1 - (1 - base) * (cos(pi k / K) + 1) / 2`` ([0]); ``base`` when ``total``
    is infinite. As BYOL's and DINO's code, the first update uses ``base``."""
    if not math.isfinite(total):
        return base
    # lightly's cosine_schedule(k, K + 1, ...) is cos(pi k / K) above
    return cosine_schedule(step, int(total) + 1, base, 1.0)


def ema_warmup_decay(steps: int, ema_decay: float) -> float:
    """Mean Teacher's EMA decay after ``steps`` optimizer steps (1 after the first):
    ``min(1 - 1 / (steps + 1), ema_decay)`` ([1]'s code)."""
    return min(1.0 - 1.0 / (steps + 1), ema_decay)


class MomentumCopiesMixin:
    """EMA copies ``backbone_momentum`` and ``projection_head_momentum``, on [0]'s cosine
    schedule from ``hparams.momentum_base`` to 1. Mix in before the task base; the method
    creates the copies (:func:`frozen_copy`) in ``configure_models``.
    """

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [
            (self.backbone, self.backbone_momentum),
            (self.projection_head, self.projection_head_momentum),
        ]

    def momentum(self, step: int) -> float:
        total = self.trainer.estimated_stepping_batches
        return cosine_momentum(step, total, self.hparams.momentum_base)


class MeanTeacherMixin:
    """What both Mean Teachers [1] (classification, segmentation) share: the teacher's
    decay :func:`ema_warmup_decay` and the consistency weight's sigmoid ramp-up. Mix in
    before the task base; the method lists its ``(student, teacher)`` pairs in ``ema_pairs``.
    """

    def momentum(self, step: int) -> float:
        """The teacher's decay after optimizer step ``step`` (0 first; [1]'s code counts it
        before updating)."""
        return ema_warmup_decay(step + 1, self.hparams.ema_decay)

    def consistency_weight(self) -> float:
        """``consistency * exp(-5 (1 - t)^2)`` at this step ([1], sec. 3)."""
        length = rampup_steps(self.hparams.rampup, self.trainer.estimated_stepping_batches)
        return self.hparams.consistency * sigmoid_rampup(self.global_step, length)

    def consistency_total(
        self, loss_labeled: torch.Tensor, loss_consistency: torch.Tensor, batch_size: int
    ) -> torch.Tensor:
        """``loss_labeled + consistency_weight() * loss_consistency``, logged."""
        weight = self.consistency_weight()
        loss = loss_labeled + weight * loss_consistency
        terms = {"loss_labeled": loss_labeled, "loss_consistency": loss_consistency}
        self.log_train({"loss": loss, **terms}, batch_size=batch_size)
        self.log("train/consistency_weight", weight, on_step=True, on_epoch=False)
        return loss
