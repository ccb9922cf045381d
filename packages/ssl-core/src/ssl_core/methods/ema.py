"""Exponential moving averages of a network: the momentum copies of BYOL, MoCo and DINO
and the Mean Teachers' teachers, moved with lightly's ``update_momentum`` on one of
two schedules.

- [0] BYOL, Grill et al. 2020, https://arxiv.org/abs/2006.07733 (the cosine schedule,
  also MoCo v3's and DINO's)
- [1] Mean Teacher, Tarvainen & Valpola 2017, https://arxiv.org/abs/1703.01780 (the
  warmup of the decay)

A method lists its ``(online, copy)`` pairs in ``ema_pairs`` and its schedule in
``momentum(step)``; :meth:`ssl_core.task.TaskModule.on_after_optimizer_step` calls
:func:`update_ema` once per optimizer step (not per batch under gradient accumulation).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import torch
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.utils.scheduler import cosine_schedule
from torch import nn

from ssl_core.methods.rampups import rampup_steps, sigmoid_rampup


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` without gradients: the EMA copy's start."""
    twin = copy.deepcopy(module)
    deactivate_requires_grad(twin)
    return twin


@torch.no_grad()
def update_ema(pairs: Iterable[tuple[nn.Module, nn.Module]], m: float) -> None:
    """``copy = m * copy + (1 - m) * online`` for every ``(online, copy)`` pair
    (lightly's ``update_momentum``; buffers such as batch-norm statistics are left to
    the copy's own forward passes, as in [0] and [1])."""
    for online, twin in pairs:
        update_momentum(online, twin, m)


def cosine_momentum(step: int, total: float, base: float) -> float:
    """BYOL's momentum after optimizer step ``step`` (0 first) of ``total``:
    ``tau_k = 1 - (1 - base) * (cos(pi k / K) + 1) / 2`` ([0]); ``base`` when the
    run's length is unknown (``total`` infinite).

    Convention (BYOL's and DINO's released code): the update after step k uses tau_k,
    so the first update uses ``base`` and the last one tau_{K-1}, just below 1.
    """
    if not math.isfinite(total):
        return base
    # lightly's cosine_schedule(k, K + 1, ...) is cos(pi k / K) above.
    return cosine_schedule(step, int(total) + 1, base, 1.0)


def ema_warmup_decay(steps: int, ema_decay: float) -> float:
    """Mean Teacher's EMA decay after ``steps`` optimizer steps (1 after the first):
    ``min(1 - 1 / (steps + 1), ema_decay)``, as in [1]'s code, which counts the step
    before updating the teacher, so the first update averages half and half and the
    teacher never just copies a freshly initialised student."""
    return min(1.0 - 1.0 / (steps + 1), ema_decay)


class MomentumCopiesMixin:
    """EMA copies ``<name>_momentum`` of the modules named in ``momentum_modules``,
    moved after every optimizer step on [0]'s cosine schedule from
    ``hparams.momentum_base`` to 1 (BYOL's target, MoCo's key encoder, DINO's teacher).

    Mix in before the task base (``class BYOL(MomentumCopiesMixin, BaseMethod)``); the
    method creates the copies (:func:`frozen_copy`) in its ``configure_models``.
    """

    momentum_modules: tuple[str, ...] = ("backbone", "projection_head")

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(getattr(self, n), getattr(self, f"{n}_momentum")) for n in self.momentum_modules]

    def momentum(self, step: int) -> float:
        """tau after optimizer step ``step`` (0 first), see :func:`cosine_momentum`."""
        total = self.trainer.estimated_stepping_batches
        return cosine_momentum(step, total, self.hparams.momentum_base)


class MeanTeacherMixin:
    """What both Mean Teachers [1] share (classification and segmentation): the teacher
    follows the student with :func:`ema_warmup_decay` of ``hparams.ema_decay``, and the
    consistency cost's weight is ``hparams.consistency`` times the sigmoid ramp-up over
    ``hparams.rampup`` (a share of the run if <= 1, else steps; see
    :mod:`ssl_core.methods.rampups`).

    Mix in before the task base; the method lists its ``(student, teacher)`` pairs in
    ``ema_pairs``.
    """

    def momentum(self, step: int) -> float:
        """The teacher's decay after optimizer step ``step`` (0 first): [1]'s code counts
        the step before updating, so the first update averages half and half."""
        return ema_warmup_decay(step + 1, self.hparams.ema_decay)

    def consistency_weight(self) -> float:
        """``consistency * exp(-5 (1 - t)^2)`` at this step ([1], sec. 3)."""
        length = rampup_steps(self.hparams.rampup, self.trainer.estimated_stepping_batches)
        return self.hparams.consistency * sigmoid_rampup(self.global_step, length)

    def consistency_total(
        self, loss_labeled: torch.Tensor, loss_consistency: torch.Tensor, batch_size: int
    ) -> torch.Tensor:
        """``loss_labeled + consistency_weight() * loss_consistency``, logged with its
        terms and the weight."""
        weight = self.consistency_weight()
        loss = loss_labeled + weight * loss_consistency
        terms = {"loss_labeled": loss_labeled, "loss_consistency": loss_consistency}
        self.log_train({"loss": loss, **terms}, batch_size=batch_size)
        self.log("train/consistency_weight", weight, on_step=True, on_epoch=False)
        return loss
