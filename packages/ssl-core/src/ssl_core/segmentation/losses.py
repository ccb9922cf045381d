"""Losses of the segmentation methods.

- :class:`SegmentationLoss`: the supervised loss of every method, pixel cross-entropy +
  Dice (UniMatch's medical recipe and the common choice for nuclei), padding
  (``ignore_index``) left out of both.
- :func:`pseudo_label_loss`: the unlabeled loss of FixMatch / UniMatch for segmentation
  (UniMatch, ``fixmatch.py`` / ``unimatch.py``): pixel cross-entropy against the weak
  view's pseudo-label, kept where its confidence reaches the threshold and the pixel is
  not padding, **summed over the kept pixels and divided by the number of non-padding
  pixels** (not by the kept ones: a batch with few confident pixels weighs little).
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn


class SegmentationLoss(nn.Module):
    """``CE + dice_weight * Dice`` of logits ``(B, K, H, W)`` against class ids
    ``(B, H, W)``; pixels equal to ``ignore_index`` count in neither term.

    Args:
        ignore_index: Label of pixels to leave out (padding).
        dice_weight: Weight of the multiclass soft Dice loss (0: cross-entropy only).
    """

    def __init__(self, ignore_index: int = 255, dice_weight: float = 1.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.dice_weight = dice_weight
        self.dice = smp.losses.DiceLoss("multiclass", ignore_index=ignore_index)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(logits, target, ignore_index=self.ignore_index)
        if not (target != self.ignore_index).any():  # all padding: 0, not NaN
            loss = logits.sum() * 0.0
        if self.dice_weight:
            loss = loss + self.dice_weight * self.dice(logits, target)
        return loss


def pseudo_label_loss(
    logits: torch.Tensor,
    pseudo_labels: torch.Tensor,
    confidence: torch.Tensor,
    ignore: torch.Tensor,
    threshold: float,
    ignore_index: int = 255,
) -> torch.Tensor:
    """Masked pixel cross-entropy, normalised as UniMatch.

    Args:
        logits: Logits ``(B, K, H, W)`` of the (strong or perturbed) view.
        pseudo_labels: Class ids ``(B, H, W)`` (argmax of the weak view).
        confidence: Max probability ``(B, H, W)`` of the weak view.
        ignore: ``(B, H, W)``, ``ignore_index`` on padding.
        threshold: Confidence a pixel needs to count.

    Returns:
        ``sum(CE * kept) / #non-padding pixels`` (0 when every pixel is padding).
    """
    valid = ignore != ignore_index
    kept = (confidence >= threshold) & valid
    ce = F.cross_entropy(logits, pseudo_labels, reduction="none")
    return (ce * kept).sum() / valid.sum().clamp_min(1)
