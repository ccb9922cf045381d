"""Learning-rate schedules that know the run's length.

YAML cannot express "the total number of optimizer steps"; the base module passes
``total_steps`` (from ``trainer.estimated_stepping_batches`` or ``max_epochs``, in the
units of the schedule's ``interval``) to any scheduler whose ``__init__`` accepts it.
"""

from __future__ import annotations

import math

from lightly.utils.scheduler import CosineWarmupScheduler, cosine_schedule
from lightning.pytorch import Trainer
from torch.optim import Optimizer


class WarmupCosine(CosineWarmupScheduler):
    """Linear warmup then cosine decay over the whole run (SimCLR, Chen et al. 2020).

    A thin layer over lightly's ``CosineWarmupScheduler`` whose length is filled in by
    the module at ``configure_optimizers`` time.

    Args:
        optimizer: The wrapped optimizer.
        total_steps: Number of scheduler steps in the run (filled in by the module).
        warmup: Warmup length: a fraction of ``total_steps`` if < 1, else a step count.
        end_value: Final LR as a fraction of the base LR.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        total_steps: int = 1,
        warmup: float = 0.0,
        end_value: float = 0.001,
    ) -> None:
        total_steps = max(int(total_steps), 1)
        warmup_steps = int(round(warmup * total_steps)) if warmup < 1 else int(warmup)
        super().__init__(
            optimizer,
            warmup_epochs=min(warmup_steps, total_steps),
            max_epochs=total_steps,
            end_value=end_value,
        )


def cosine_momentum(trainer: Trainer, base: float) -> float:
    """Momentum of an EMA encoder at the optimizer step just taken (step k = 0 first).

    BYOL's schedule (Grill et al. 2020, https://arxiv.org/abs/2006.07733), also used by
    MoCo v3 and DINO: ``tau_k = 1 - (1 - base) * (cos(pi k / K) + 1) / 2`` over the K
    optimizer steps of the run; ``base`` when the run's length is unknown.

    Convention (BYOL's and DINO's released code): the update after optimizer step k,
    counted from 0, uses tau_k, so the first update uses ``base`` and the last one
    tau_{K-1}, just below 1. Call it from within ``optimizer_step`` (the base module's
    ``on_after_optimizer_step``), where Lightning has not yet counted the step just
    taken: ``trainer.global_step`` is then k.
    """
    step, total = trainer.global_step, trainer.estimated_stepping_batches
    if not math.isfinite(total):
        return base
    # lightly's cosine_schedule(k, K + 1, ...) is cos(pi k / K) above.
    return cosine_schedule(step, int(total) + 1, base, 1.0)


def ema_warmup_decay(steps: int, ema_decay: float) -> float:
    """Mean Teacher's EMA decay after ``steps`` optimizer steps (1 after the first):
    ``min(1 - 1 / (steps + 1), ema_decay)``, as in Tarvainen & Valpola's code, which
    counts the step before updating the teacher, so the first update averages half and
    half and the teacher never just copies a freshly initialised student."""
    return min(1.0 - 1.0 / (steps + 1), ema_decay)
