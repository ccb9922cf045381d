"""Segmentation scores from per-class pixel counts, shared by the online metrics of
:class:`~ssl_core.segmentation.base.SegmentationTask` and ``evaluate RUN``.

- **Dataset-level** IoU and Dice of a class: its true/false positive and false negative
  pixels summed over all images, then ``TP / (TP + FP + FN)`` and
  ``2 TP / (2 TP + FP + FN)`` (large images weigh more).
- **Foreground**: binary tasks (two classes, 0 background) report class 1 only (the
  mean with the background would inflate the number); with more classes, the mean over
  classes 1..K-1 (class 0 is the background).
- **Per-image** IoU: the foreground IoU of each image on its own (mean over the
  foreground classes present in its truth or prediction); 1 when neither has any
  foreground (nothing to find, nothing found).

Pixels whose truth is ``ignore_index`` (padding) count nowhere.
"""

from __future__ import annotations

import torch
from segmentation_models_pytorch import metrics as smp_metrics
from torchmetrics import Metric


def class_counts(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int = 255
) -> torch.Tensor:
    """Per image and class ``(B, K, 3)`` counts ``(TP, FP, FN)`` of class ids ``pred``
    and ``target`` ``(B, H, W)`` (SMP's ``get_stats``; pixels of ``ignore_index`` left out)."""
    tp, fp, fn, _ = smp_metrics.get_stats(
        pred.long(), target.long(), mode="multiclass", num_classes=num_classes,
        ignore_index=ignore_index,
    )  # fmt: skip
    return torch.stack([tp, fp, fn], dim=-1)


def iou_dice(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and Dice per class of counts ``(..., K, 3)``; NaN where a class has no
    pixel in truth or prediction."""
    tp, fp, fn = counts.double().unbind(-1)
    union = tp + fp + fn
    nan = torch.full_like(tp, float("nan"))
    iou = torch.where(union > 0, tp / union.clamp_min(1), nan)
    dice = torch.where(union > 0, 2 * tp / (2 * tp + fp + fn).clamp_min(1), nan)
    return iou, dice


def foreground(values: torch.Tensor, empty: float = float("nan")) -> torch.Tensor:
    """Foreground score of per-class ``values`` ``(..., K)``: class 1 when K = 2, else
    the mean over classes 1..K-1 that are defined; ``empty`` where none is."""
    fg = values[..., 1:]
    defined = ~fg.isnan()
    total = torch.where(defined, fg, torch.zeros_like(fg)).sum(-1)
    n = defined.sum(-1)
    return torch.where(n > 0, total / n.clamp_min(1), torch.full_like(total, empty))


def dataset_scores(counts: torch.Tensor) -> dict[str, float]:
    """``iou`` and ``dice`` (foreground, dataset-level) of counts summed over images
    ``(K, 3)``."""
    iou, dice = iou_dice(counts)
    return {"iou": float(foreground(iou)), "dice": float(foreground(dice))}


def image_scores(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image foreground IoU and Dice ``(B,)`` of counts ``(B, K, 3)``; 1 for an
    image with no foreground in truth or prediction."""
    iou, dice = iou_dice(counts)
    return foreground(iou, empty=1.0), foreground(dice, empty=1.0)


class SegmentationScores(Metric):
    """Online foreground scores: dataset-level ``iou`` and ``dice``, mean per-image
    ``image_iou`` and ``image_dice``; counts are summed across DDP ranks (under DDP,
    the sampler's padding repeats a few images, as for every torchmetrics metric).

    Args:
        num_classes: Classes of the task (2 for binary).
        ignore_index: Truth label of pixels to leave out.
    """

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
        scores["image_iou"] = self.image_iou / n
        scores["image_dice"] = self.image_dice / n
        return scores
