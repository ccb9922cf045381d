"""Validate at the run's last optimizer step, wherever it falls: a run stopped by
``max_steps`` between validations would log no ``val/...`` metric. ``train fit`` adds
:class:`ValidateAtLastStep` to every run (:class:`ssl_core.cli.SSLCLI`).
"""

from __future__ import annotations

from lightning.pytorch import Callback


class ValidateAtLastStep(Callback):
    """Validation after the optimizer step that reaches ``trainer.max_steps`` (asking the
    trainer to stop, which Lightning answers with a validation first, exactly once)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if 0 < trainer.max_steps <= trainer.global_step:
            trainer.should_stop = True
