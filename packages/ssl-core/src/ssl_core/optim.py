"""Learning-rate schedules that know the run's length: YAML cannot express it, so the
module passes ``total_steps`` (in the units of the schedule's ``interval``) to any
scheduler whose ``__init__`` accepts it."""

from __future__ import annotations

from lightly.utils.scheduler import CosineWarmupScheduler
from torch.optim import Optimizer


class WarmupCosine(CosineWarmupScheduler):
    """Linear warmup then cosine decay over the whole run (SimCLR, Chen et al. 2020).

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
        # lightly's warmup_epochs and max_epochs, counted in scheduler steps
        super().__init__(
            optimizer, min(warmup_steps, total_steps), total_steps, end_value=end_value
        )
