"""Segmentation losses: the supervised CE + Dice and FixMatch / UniMatch's unlabeled loss."""

from __future__ import annotations

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn


class SegmentationLoss(nn.Module):
    """``CE + dice_weight * Dice`` of logits ``(B, K, H, W)`` against class ids
    ``(B, H, W)``; pixels equal to ``ignore_index`` count in neither term."""

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
    """Pixel CE of ``logits`` ``(B, K, H, W)`` against ``pseudo_labels`` ``(B, H, W)``, summed
    over non-padding pixels whose ``confidence`` reaches ``threshold`` and divided by the
    number of non-padding pixels, as UniMatch (0 when all is padding)."""
    valid = ignore != ignore_index
    kept = (confidence >= threshold) & valid
    ce = F.cross_entropy(logits, pseudo_labels, reduction="none")
    return (ce * kept).sum() / valid.sum().clamp_min(1)


def mask_ratio(
    confidence: torch.Tensor, ignore: torch.Tensor, threshold: float, ignore_index: int = 255
) -> torch.Tensor:
    """Share of the non-padding pixels that reach ``threshold`` (``train/mask_ratio``)."""
    valid = ignore != ignore_index
    kept = (confidence >= threshold) & valid
    return kept.sum() / valid.sum().clamp_min(1)
