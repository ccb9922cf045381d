"""Validate at the run's last optimizer step, wherever it falls.

Lightning validates every ``val_check_interval`` batches or at an epoch's end; a run
stopped by ``max_steps`` in between (``--trainer.max_steps 4`` to try a recipe) logs no
``val/...`` metric at all. :class:`ValidateAtLastStep` asks the trainer to stop after the
last step, which Lightning answers with a validation first: the final-step numbers are
always logged, and exactly once (a last step that is also a check step validates once).

``train fit`` adds it to every run (:class:`ssl_core.cli.SSLCLI`): a recipe need not list it.
"""

from __future__ import annotations

from lightning.pytorch import Callback


class ValidateAtLastStep(Callback):
    """Validation after the optimizer step that reaches ``trainer.max_steps``."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if 0 < trainer.max_steps <= trainer.global_step:
            trainer.should_stop = True
