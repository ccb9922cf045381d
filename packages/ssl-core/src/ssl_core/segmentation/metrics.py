"""Segmentation scores from per-class pixel counts (online metrics and ``evaluate RUN``):
IoU ``TP / (TP + FP + FN)``, Dice ``2 TP / (2 TP + FP + FN)`` of class 1 for binary tasks,
else the mean over classes 1..K-1; dataset-level (counts summed over images) or per image
(1 without foreground in truth and prediction). ``ignore_index`` pixels count nowhere.
"""

from __future__ import annotations

import torch
from segmentation_models_pytorch import metrics as smp_metrics
from torchmetrics import Metric


def class_counts(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int = 255
) -> torch.Tensor:
    """Counts ``(TP, FP, FN)`` ``(B, K, 3)`` of class ids ``pred`` and ``target`` ``(B, H, W)``."""
    settings = dict(mode="multiclass", num_classes=num_classes, ignore_index=ignore_index)
    tp, fp, fn, _ = smp_metrics.get_stats(pred.long(), target.long(), **settings)
    return torch.stack([tp, fp, fn], dim=-1)


def iou_dice(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and Dice per class of counts ``(..., K, 3)``; NaN for a class with no pixel."""
    tp, fp, fn = counts.double().unbind(-1)
    union = tp + fp + fn
    nan = torch.full_like(tp, float("nan"))
    iou = torch.where(union > 0, tp / union.clamp_min(1), nan)
    dice = torch.where(union > 0, 2 * tp / (2 * tp + fp + fn).clamp_min(1), nan)
    return iou, dice


def foreground(values: torch.Tensor, empty: float = float("nan")) -> torch.Tensor:
    """Foreground score of per-class ``values`` ``(..., K)``; ``empty`` where none is defined."""
    fg = values[..., 1:]
    defined = ~fg.isnan()
    total = torch.where(defined, fg, torch.zeros_like(fg)).sum(-1)
    n = defined.sum(-1)
    return torch.where(n > 0, total / n.clamp_min(1), torch.full_like(total, empty))


def dataset_scores(counts: torch.Tensor) -> dict[str, float]:
    """Foreground ``iou`` and ``dice`` of counts summed over images ``(K, 3)``."""
    iou, dice = iou_dice(counts)
    return {"iou": float(foreground(iou)), "dice": float(foreground(dice))}


def image_scores(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image foreground IoU and Dice ``(B,)`` of counts ``(B, K, 3)``."""
    iou, dice = iou_dice(counts)
    return foreground(iou, empty=1.0), foreground(dice, empty=1.0)


class SegmentationScores(Metric):
    """Online ``iou``, ``dice`` (dataset-level), ``image_iou``, ``image_dice`` (per-image means)."""

    full_state_update = False

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.add_state("counts", torch.zeros(num_classes, 3, dtype=torch.long), "sum")
        self.add_state("image_iou", torch.zeros((), dtype=torch.double), "sum")
        self.add_state("image_dice", torch.zeros((), dtype=torch.double), "sum")
        self.add_state("images", torch.zeros((), dtype=torch.long), "sum")

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Class ids ``pred`` and ``target`` ``(B, H, W)``."""
        counts = class_counts(pred, target, self.num_classes, self.ignore_index)
        iou, dice = image_scores(counts)
        self.counts += counts.sum(0)
        self.image_iou += iou.sum()
        self.image_dice += dice.sum()
        self.images += len(iou)

    def compute(self) -> dict[str, torch.Tensor]:
        scores = {k: torch.tensor(v) for k, v in dataset_scores(self.counts).items()}
        n = self.images.clamp_min(1)
        return {**scores, "image_iou": self.image_iou / n, "image_dice": self.image_dice / n}
