"""UniMatch (V1): FixMatch with two strong views and a feature-perturbation stream,
``(L_x + 0.25 L_s1 + 0.25 L_s2 + 0.5 L_fp) / 2``. Departures: docs/segmentation.md.

- [0] UniMatch, Yang et al. CVPR 2023, "Revisiting Weak-to-Strong Consistency in
  Semi-Supervised Semantic Segmentation", https://arxiv.org/abs/2208.09910,
  https://github.com/LiheYoung/UniMatch (``unimatch.py``)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_core.segmentation.base import SegmentationTask, semi_batch
from ssl_core.segmentation.cutmix import cutmix_flipped, mixed_targets
from ssl_core.segmentation.losses import mask_ratio, pseudo_label_loss


class UniMatch(SegmentationTask):
    """UniMatch V1 on an SMP network (``data.train_on: semi`` with 2 strong views).

    Args:
        threshold: Confidence a weak-view pixel needs to be a pseudo-label (0.95 in [0]).
        cutmix_prob: Probability that each strong view gets a CutMix box (0.5 in [0]).
        fp_dropout: Channel dropout of the feature perturbation (0.5 in [0]).
        weights: Weights of L_s1, L_s2 and L_fp (0.25, 0.25, 0.5 in [0]).
        **kwargs: :class:`~ssl_core.segmentation.base.SegmentationTask` arguments.
    """

    train_on = "semi"

    def __init__(
        self,
        threshold: float = 0.95,
        cutmix_prob: float = 0.5,
        fp_dropout: float = 0.5,
        weights: tuple[float, float, float] = (0.25, 0.25, 0.5),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)

    def forward_with_perturbation(
        self, x: torch.Tensor, start: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of images ``x`` ``(B, C, H, W)`` and, decoded in the same pass, of
        ``x[start:]`` with ``Dropout2d(fp_dropout)`` on every encoder feature map."""
        net, p = self.network, self.hparams.fp_dropout
        features = net.encoder(x)
        # features[0] is the input itself (SMP's U-Net drops it; kept unperturbed)
        perturbed = [features[0][start:]] + [
            F.dropout2d(f[start:], p, training=True) for f in features[1:]
        ]
        joint = [torch.cat([f, g]) for f, g in zip(features, perturbed, strict=True)]
        logits = net.segmentation_head(net.decoder(joint))
        return logits[: len(x)], logits[len(x) :]

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y, (u_weak, u_s1, u_s2, *_), ignore = semi_batch(batch)
        n, t, p = len(x), self.hparams.threshold, self.hparams.cutmix_prob

        logits, logits_fp = self.forward_with_perturbation(torch.cat([x, u_weak]), start=n)
        confidence, pseudo = logits[n:].detach().softmax(dim=1).max(dim=1)

        (u_s1, boxes1), (u_s2, boxes2) = cutmix_flipped(u_s1, p), cutmix_flipped(u_s2, p)
        logits_s1, logits_s2 = self.network(torch.cat([u_s1, u_s2])).chunk(2)

        loss_x = self.supervised_loss(logits[:n], y)
        loss_s1, loss_s2 = (
            pseudo_label_loss(
                s, *mixed_targets(pseudo, confidence, ignore, b), t, self.ignore_index
            )
            for s, b in ((logits_s1, boxes1), (logits_s2, boxes2))
        )
        loss_fp = pseudo_label_loss(logits_fp, pseudo, confidence, ignore, t, self.ignore_index)
        w1, w2, w_fp = self.hparams.weights
        loss = (loss_x + w1 * loss_s1 + w2 * loss_s2 + w_fp * loss_fp) / 2

        values = {"loss": loss, "loss_labeled": loss_x, "loss_fp": loss_fp}
        values |= {"loss_s1": loss_s1, "loss_s2": loss_s2}
        values["mask_ratio"] = mask_ratio(confidence, ignore, t, self.ignore_index)
        self.log_train(values, batch_size=n)
        return loss
