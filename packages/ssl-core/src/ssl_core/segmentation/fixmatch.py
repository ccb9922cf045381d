"""FixMatch for segmentation: confident weak-view pseudo-labels train a CutMixed
strong view; total ``(L_x + L_u) / 2``. Departures from [1]: docs/segmentation.md.

- [0] FixMatch, Sohn et al. NeurIPS 2020, https://arxiv.org/abs/2001.07685
- [1] UniMatch, Yang et al. CVPR 2023, https://github.com/LiheYoung/UniMatch
  (``fixmatch.py``: FixMatch as the segmentation baseline)
- [2] U2PL, Wang et al. CVPR 2022, https://arxiv.org/abs/2203.03884 (EMA teacher)
- [3] Mean Teacher, Tarvainen & Valpola 2017, https://arxiv.org/abs/1703.01780 (ramp-up)
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_core.methods.ema import ema_warmup_decay, frozen_copy
from ssl_core.methods.rampups import rampup_steps, sigmoid_rampup
from ssl_core.segmentation.base import SegmentationTask, semi_batch
from ssl_core.segmentation.cutmix import cutmix_flipped, mixed_targets
from ssl_core.segmentation.losses import mask_ratio, pseudo_label_loss


class FixMatchSegmentation(SegmentationTask):
    """FixMatch with CutMix for segmentation (``data.train_on: semi``).

    Args:
        threshold: Confidence a weak-view pixel needs to be a pseudo-label (0.95 in [1]).
        cutmix_prob: Probability that a strong view gets a CutMix box (0.5 in [1]).
        teacher_decay: EMA decay of a pseudo-labelling teacher (0.99 in [2]); 0: the student.
        rampup: Ramp-up of the unlabeled weight: a share of the run if <= 1, else steps; 0: none.
        **kwargs: :class:`~ssl_core.segmentation.base.SegmentationTask` arguments.
    """

    train_on = "semi"

    def __init__(
        self,
        threshold: float = 0.95,
        cutmix_prob: float = 0.5,
        teacher_decay: float = 0.0,
        rampup: float = 0.0,
        **kwargs,
    ) -> None:
        if not 0 <= teacher_decay < 1:
            raise ValueError(f"teacher_decay must be in [0, 1), not {teacher_decay}")
        super().__init__(**kwargs)

    def configure_models(self) -> None:
        if self.hparams.teacher_decay:
            self.teacher = frozen_copy(self.network)

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.network, self.teacher)] if self.hparams.teacher_decay else []

    def momentum(self, step: int) -> float:
        return ema_warmup_decay(step + 1, self.hparams.teacher_decay)

    def unlabeled_weight(self) -> float:
        """The unlabeled loss's weight at this step (1 without a ramp-up)."""
        if not self.hparams.rampup:
            return 1.0
        length = rampup_steps(self.hparams.rampup, self.trainer.estimated_stepping_batches)
        return sigmoid_rampup(self.global_step, length)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y, (u_weak, u_strong, *_), ignore = semi_batch(batch)
        t = self.hparams.threshold

        labeler = self.teacher if self.hparams.teacher_decay else self.network
        with torch.no_grad():
            confidence, pseudo = labeler(u_weak).softmax(dim=1).max(dim=1)
        u_strong, boxes = cutmix_flipped(u_strong, self.hparams.cutmix_prob)
        targets = mixed_targets(pseudo, confidence, ignore, boxes)

        logits_x, logits_s = self.network(torch.cat([x, u_strong])).split([len(x), len(u_strong)])
        loss_x = self.supervised_loss(logits_x, y)
        loss_u = pseudo_label_loss(logits_s, *targets, t, self.ignore_index)
        weight = self.unlabeled_weight()
        loss = (loss_x + weight * loss_u) / 2

        if self.hparams.rampup:
            self.log("train/unlabeled_weight", weight, on_step=True, on_epoch=False)
        values = {"loss": loss, "loss_labeled": loss_x, "loss_unlabeled": loss_u}
        values["mask_ratio"] = mask_ratio(confidence, ignore, t, self.ignore_index)
        self.log_train(values, batch_size=len(x))
        return loss
