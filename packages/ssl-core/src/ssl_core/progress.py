"""The training progress bar: Lightning's rich one, counting steps where steps end the run
(Lightning's reads ``Epoch 299/-2`` under ``max_epochs: -1``); ``train fit``'s default."""

from __future__ import annotations

from lightning.pytorch.callbacks import RichProgressBar


class StepProgressBar(RichProgressBar):
    """``RichProgressBar`` whose training line is ``Epoch E[/M][, step S/max_steps]``."""

    def _get_train_description(self, current_epoch: int) -> str:
        # Lightning's own method (2.x), called where it names the training line
        trainer = self.trainer
        description = f"Epoch {current_epoch}"
        if trainer.max_epochs is not None and trainer.max_epochs > 0:
            description += f"/{trainer.max_epochs - 1}"
        if trainer.max_steps > 0:
            description += f", step {trainer.global_step}/{trainer.max_steps}"
        # as Lightning: as wide as the validation line's, so that the bars do not jump
        return f"{description:{len(self.validation_description)}}"

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if (
            trainer.max_steps > 0
            and self.is_enabled
            and self.progress is not None
            and self.train_progress_bar_id is not None
        ):
            description = self._get_train_description(trainer.current_epoch)
            if self.theme.description:  # the markup Lightning adds to a new line's text
                description = f"[{self.theme.description}]{description}"
            self.progress.update(self.train_progress_bar_id, description=description)
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
