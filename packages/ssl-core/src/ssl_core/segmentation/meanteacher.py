"""Mean Teacher for segmentation: consistency with an EMA of the network.

- [0] Mean Teacher, Tarvainen & Valpola, NeurIPS 2017, https://arxiv.org/abs/1703.01780
- [1] SSL4MIS (Luo et al.), ``train_mean_teacher_2D.py``,
  https://github.com/HiLab-git/SSL4MIS (the usual segmentation recipe)

The teacher is an exponential moving average of the student network (encoder, decoder,
head), updated after every optimizer step with decay ``min(1 - 1 / (step + 1),
ema_decay)`` (the reference code's warmup); its batch-norm statistics come from its own
forward passes, as in [1]. Labeled images get CE + Dice on the student. On unlabeled
images, the consistency cost is the mean squared error between the student's and the
teacher's per-pixel softmax (averaged over classes and non-padding pixels), weighted by
``consistency`` times the sigmoid ramp-up ``exp(-5 (1 - t)^2)`` of [0].

Settings of [1] (ACDC, U-Net): EMA decay 0.99, consistency 0.1, ramp-up over 200 of
30 000 iterations' "epochs", teacher input = student input + Gaussian noise clipped to
+-0.2. Departures: the student sees the datamodule's first strong view (photometric only,
pixel-aligned) and the teacher the weak view, instead of noise on the teacher's input;
consistency on unlabeled images only (as [1]); ramp-up length as a share of the run.
Validation, test and predict use the teacher (``evaluate_teacher``), as [0] reports.
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_core.methods.ema import MeanTeacherMixin, frozen_copy
from ssl_core.segmentation.base import SegmentationTask, unlabeled_ignore


class MeanTeacherSegmentation(MeanTeacherMixin, SegmentationTask):
    """Student network and its EMA teacher.

    Batches (``data.train_on: semi``): ``{"labeled": {"image", "mask"}, "unlabeled":
    {"views": [weak, strong1, ...], "ignore"}}``; the weak view goes to the teacher, the
    first strong view to the student.

    Args:
        consistency: Maximum weight of the consistency cost (0.1 in [1]).
        rampup: Length of the sigmoid ramp-up of that weight: a share of the run's
            optimizer steps if <= 1, else a number of steps.
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
        labeled, unlabeled = batch["labeled"], batch["unlabeled"]
        x, y = labeled["image"], labeled["mask"]
        u_weak, u_strong = unlabeled["views"][:2]
        valid = (unlabeled_ignore(unlabeled, u_weak) != self.ignore_index).float()

        logits = self.network(torch.cat([x, u_strong]))
        logits_x, logits_u = logits.split([len(x), len(u_strong)])
        with torch.no_grad():
            teacher_probs = self.teacher(u_weak).softmax(dim=1)

        loss_x = self.supervised_loss(logits_x, y)
        squared = (logits_u.softmax(dim=1) - teacher_probs).pow(2).mean(dim=1)
        loss_c = (squared * valid).sum() / valid.sum().clamp_min(1)
        return self.consistency_total(loss_x, loss_c, batch_size=len(x))
