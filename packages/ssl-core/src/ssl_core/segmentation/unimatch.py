"""UniMatch (V1): FixMatch with two strong views and a feature-perturbation stream.

- [0] UniMatch, Yang et al. CVPR 2023, "Revisiting Weak-to-Strong Consistency in
  Semi-Supervised Semantic Segmentation", https://arxiv.org/abs/2208.09910,
  https://github.com/LiheYoung/UniMatch (``unimatch.py``)

Per step, as [0]'s code: labeled crops and the unlabeled weak views go through the
encoder together; the decoder sees their features and, in the same pass, the weak views'
features perturbed by ``Dropout2d(0.5)`` (every encoder stage, as [0]'s U-Net of the
medical scenario). The weak view's output (detached) gives pseudo-labels and confidences;
the perturbed output is trained against them (L_fp). Two strong views, each with its own
photometric parameters (the datamodule) and its own CutMix box (the batch's ``flip(0)``
as partner), are trained against the CutMixed pseudo-labels (L_s1, L_s2). Unlabeled
losses keep confident non-padding pixels and divide by the non-padding pixels. Total
``(L_x + 0.25 L_s1 + 0.25 L_s2 + 0.5 L_fp) / 2``.

Settings of [0] (Pascal): threshold 0.95, CutMix p 0.5, SGD momentum 0.9, weight decay
1e-4, poly schedule 0.9, head lr x10; medical (ACDC, U-Net): CE + Dice labeled, Dice
unlabeled, lr 0.01, batch 12. Departures: the CutMix partner is the batch's ``flip(0)``
(UniMatch V2's choice) instead of a second unlabeled batch predicted in eval mode;
perturbation only of the unlabeled weak views' features (in [0]'s DeepLab the labeled
half is perturbed too and its output thrown away); cross-entropy on unlabeled pixels for
every scenario.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_core.segmentation.base import SegmentationTask, unlabeled_ignore
from ssl_core.segmentation.cutmix import cutmix, cutmix_boxes
from ssl_core.segmentation.fixmatch import mask_ratio, mixed_targets
from ssl_core.segmentation.losses import pseudo_label_loss


class UniMatch(SegmentationTask):
    """UniMatch V1 on an SMP network (encoder -> decoder -> head).

    Batches (``data.train_on: semi``): ``{"labeled": {"image", "mask"}, "unlabeled":
    {"views": [weak, strong1, strong2], "ignore"}}``.

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

    def configure_models(self) -> None:
        net = self.network
        if not all(hasattr(net, m) for m in ("encoder", "decoder", "segmentation_head")):
            raise ValueError(f"UniMatch needs an encoder-decoder-head network, not {type(net)}")

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

    def boxes(self, like: torch.Tensor) -> torch.Tensor:
        b, _, h, w = like.shape
        return cutmix_boxes(b, h, w, p=self.hparams.cutmix_prob, device=like.device)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        labeled, unlabeled = batch["labeled"], batch["unlabeled"]
        x, y = labeled["image"], labeled["mask"]
        u_weak, u_s1, u_s2 = unlabeled["views"][:3]
        ignore = unlabeled_ignore(unlabeled, u_weak)
        n, t = len(x), self.hparams.threshold

        logits, logits_fp = self.forward_with_perturbation(torch.cat([x, u_weak]), start=n)
        logits_x, logits_w = logits[:n], logits[n:]
        confidence, pseudo = logits_w.detach().softmax(dim=1).max(dim=1)

        boxes1, boxes2 = self.boxes(u_s1), self.boxes(u_s2)
        u_s1 = cutmix(u_s1, u_s1.flip(0), boxes1)
        u_s2 = cutmix(u_s2, u_s2.flip(0), boxes2)
        logits_s1, logits_s2 = self.network(torch.cat([u_s1, u_s2])).chunk(2)

        loss_x = self.supervised_loss(logits_x, y)
        losses_s = [
            pseudo_label_loss(
                logits_s, *mixed_targets(pseudo, confidence, ignore, b), t, self.ignore_index
            )
            for logits_s, b in ((logits_s1, boxes1), (logits_s2, boxes2))
        ]
        loss_fp = pseudo_label_loss(logits_fp, pseudo, confidence, ignore, t, self.ignore_index)
        w1, w2, w_fp = self.hparams.weights
        loss = (loss_x + w1 * losses_s[0] + w2 * losses_s[1] + w_fp * loss_fp) / 2

        values = {"loss": loss, "loss_labeled": loss_x, "loss_fp": loss_fp}
        values |= {"loss_s1": losses_s[0], "loss_s2": losses_s[1]}
        values["mask_ratio"] = mask_ratio(confidence, ignore, self)
        self.log_train(values, batch_size=n)
        return loss
