"""FixMatch for segmentation: confident weak-view pseudo-labels train a CutMixed
strong view.

- [0] FixMatch, Sohn et al. NeurIPS 2020, https://arxiv.org/abs/2001.07685
- [1] UniMatch, Yang et al. CVPR 2023, https://github.com/LiheYoung/UniMatch
  (``fixmatch.py``: FixMatch as the segmentation baseline)
- [2] U2PL, Wang et al. CVPR 2022, https://arxiv.org/abs/2203.03884 (pseudo-labels from
  an EMA teacher of the student, decay 0.99)
- [3] Mean Teacher, Tarvainen & Valpola 2017, https://arxiv.org/abs/1703.01780 (the
  sigmoid ramp-up of an unlabeled loss's weight)

Per step: B labeled crops and B unlabeled crops (weak and strong views, pixel-aligned).
The weak view's argmax is the pseudo-label and its max probability the confidence
(no gradient). The strong view gets a CutMix box (:mod:`ssl_core.segmentation.cutmix`)
from another unlabeled image of the batch, whose pseudo-label, confidence and padding
fill the box of the targets. Pixel cross-entropy of the strong view against the
pseudo-label, kept where the confidence reaches ``threshold`` and the pixel is not
padding, summed and divided by the number of non-padding pixels (as [1]). The labeled
loss is CE + Dice. Total ``(L_x + L_u) / 2`` as [1].

Settings of [1] (Pascal): threshold 0.95, CutMix p 0.5, SGD lr 0.001 (head x10),
poly schedule. Departures: the CutMix partner is the batch's ``flip(0)`` (no second
unlabeled loader; UniMatch V2's choice), so partners get their pseudo-labels from the
same weak forward pass; that pass runs under ``no_grad`` on its own (in [1] the weak
view shares the labeled images' forward pass, its output detached); the strong view
goes through the network with the labeled crops, so batch norm sees both.

Two options against confirmation bias, both off by default (FixMatch as [0] and [1]):
``teacher_decay`` makes the pseudo-labels with an EMA teacher of the student ([2];
the Mean Teachers' decay warmup, :func:`ssl_core.methods.ema.ema_warmup_decay`),
steadier than the student that they train; ``rampup`` raises the unlabeled loss's
weight from 0 with [3]'s sigmoid, so the first pseudo-labels, made by a network that
has seen a few labeled batches, count little. Validation, test and predict use the
student either way.
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_core.methods.ema import ema_warmup_decay, frozen_copy
from ssl_core.methods.rampups import rampup_steps, sigmoid_rampup
from ssl_core.segmentation.base import SegmentationTask, unlabeled_ignore
from ssl_core.segmentation.cutmix import cutmix, cutmix_boxes
from ssl_core.segmentation.losses import pseudo_label_loss


def mixed_targets(
    pseudo: torch.Tensor, confidence: torch.Tensor, ignore: torch.Tensor, boxes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pseudo-labels, confidences and padding ``(B, H, W)`` with the partner's
    (``flip(0)``) inside ``boxes``."""
    return tuple(cutmix(t, t.flip(0), boxes) for t in (pseudo, confidence, ignore))


class FixMatchSegmentation(SegmentationTask):
    """FixMatch with CutMix for segmentation.

    Batches (``data.train_on: semi``): ``{"labeled": {"image", "mask"}, "unlabeled":
    {"views": [weak, strong1, ...], "ignore"}}``.

    Args:
        threshold: Confidence a weak-view pixel needs to be a pseudo-label (0.95 in [1]).
        cutmix_prob: Probability that a strong view gets a CutMix box (0.5 in [1]).
        teacher_decay: EMA decay of a teacher that makes the pseudo-labels (0.99 in [2]);
            0: the student makes them, as in [0] and [1].
        rampup: Length of the sigmoid ramp-up of the unlabeled loss's weight: a share of
            the run's optimizer steps if <= 1, else a number of steps; 0: full weight
            from the first step, as in [0] and [1].
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
        """The teacher's decay after optimizer step ``step`` (0 first), warmed up as the
        Mean Teachers' (:func:`~ssl_core.methods.ema.ema_warmup_decay`)."""
        return ema_warmup_decay(step + 1, self.hparams.teacher_decay)

    def pseudo_labeler(self) -> nn.Module:
        """The network whose weak-view predictions are the pseudo-labels."""
        return self.teacher if self.hparams.teacher_decay else self.network

    def unlabeled_weight(self) -> float:
        """The unlabeled loss's weight at this step (1 without a ramp-up)."""
        if not self.hparams.rampup:
            return 1.0
        length = rampup_steps(self.hparams.rampup, self.trainer.estimated_stepping_batches)
        return sigmoid_rampup(self.global_step, length)

    def boxes(self, like: torch.Tensor) -> torch.Tensor:
        """CutMix boxes ``(B, H, W)`` for images like ``like`` ``(B, C, H, W)``."""
        b, _, h, w = like.shape
        return cutmix_boxes(b, h, w, p=self.hparams.cutmix_prob, device=like.device)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        labeled, unlabeled = batch["labeled"], batch["unlabeled"]
        x, y = labeled["image"], labeled["mask"]
        u_weak, u_strong = unlabeled["views"][:2]
        ignore = unlabeled_ignore(unlabeled, u_weak)

        with torch.no_grad():
            confidence, pseudo = self.pseudo_labeler()(u_weak).softmax(dim=1).max(dim=1)
        boxes = self.boxes(u_strong)
        u_strong = cutmix(u_strong, u_strong.flip(0), boxes)
        pseudo_m, confidence_m, ignore_m = mixed_targets(pseudo, confidence, ignore, boxes)

        logits_x, logits_s = self.network(torch.cat([x, u_strong])).split([len(x), len(u_strong)])
        loss_x = self.supervised_loss(logits_x, y)
        loss_u = pseudo_label_loss(
            logits_s, pseudo_m, confidence_m, ignore_m, self.hparams.threshold, self.ignore_index
        )
        weight = self.unlabeled_weight()
        loss = (loss_x + weight * loss_u) / 2

        values = {"loss": loss, "loss_labeled": loss_x, "loss_unlabeled": loss_u}
        if self.hparams.rampup:
            self.log("train/unlabeled_weight", weight, on_step=True, on_epoch=False)
        ratio = mask_ratio(confidence, ignore, self)
        self.log_train({**values, "mask_ratio": ratio}, batch_size=len(x))
        return loss


def mask_ratio(
    confidence: torch.Tensor, ignore: torch.Tensor, task: SegmentationTask
) -> torch.Tensor:
    """Share of the non-padding unlabeled pixels whose weak-view confidence reaches the
    threshold (``train/mask_ratio``)."""
    valid = ignore != task.ignore_index
    kept = (confidence >= task.hparams.threshold) & valid
    return kept.sum() / valid.sum().clamp_min(1)
