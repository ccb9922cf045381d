"""Mean Teacher for segmentation: the MSE between the student's per-pixel softmax on the
first strong view and its EMA teacher's on the weak view. Departures: docs/segmentation.md.

- [0] Mean Teacher, Tarvainen & Valpola, NeurIPS 2017, https://arxiv.org/abs/1703.01780
- [1] SSL4MIS (Luo et al.), ``train_mean_teacher_2D.py``,
  https://github.com/HiLab-git/SSL4MIS (EMA 0.99, consistency 0.1)
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_core.methods.ema import MeanTeacherMixin, frozen_copy
from ssl_core.segmentation.base import SegmentationTask, semi_batch


class MeanTeacherSegmentation(MeanTeacherMixin, SegmentationTask):
    """Student network and its EMA teacher (``data.train_on: semi``).

    Args:
        consistency: Maximum weight of the consistency cost (0.1 in [1]).
        rampup: Length of that weight's ramp-up: a share of the run if <= 1, else steps.
        ema_decay: Decay of the teacher's EMA (0.99 in [1]).
        evaluate_teacher: Validate, test and predict with the teacher (else the student).
        **kwargs: :class:`~ssl_core.segmentation.base.SegmentationTask` arguments.
    """

    train_on = "semi"

    def __init__(
        self,
        consistency: float = 0.1,
        rampup: float = 0.3,
        ema_decay: float = 0.99,
        evaluate_teacher: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)

    def configure_models(self) -> None:
        self.teacher = frozen_copy(self.network)

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.network, self.teacher)]

    def inference_network(self) -> nn.Module:
        return self.teacher if self.hparams.evaluate_teacher else self.network

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y, (u_weak, u_strong, *_), ignore = semi_batch(batch)
        valid = (ignore != self.ignore_index).float()

        logits_x, logits_u = self.network(torch.cat([x, u_strong])).split([len(x), len(u_strong)])
        with torch.no_grad():
            teacher_probs = self.teacher(u_weak).softmax(dim=1)

        loss_x = self.supervised_loss(logits_x, y)
        squared = (logits_u.softmax(dim=1) - teacher_probs).pow(2).mean(dim=1)
        loss_c = (squared * valid).sum() / valid.sum().clamp_min(1)
        return self.consistency_total(loss_x, loss_c, batch_size=len(x))
