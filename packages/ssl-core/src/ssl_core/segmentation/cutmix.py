"""CutMix for segmentation, made on the batch: boxes as [1], showing the batch's
``flip(0)`` (UniMatch V2's choice; [1] draws a second unlabeled batch).

- [0] CutMix, Yun et al. ICCV 2019, https://arxiv.org/abs/1905.04899
- [1] UniMatch, Yang et al. CVPR 2023, https://github.com/LiheYoung/UniMatch
  (``obtain_cutmix_box`` in ``dataset/transform.py``)
"""

from __future__ import annotations

import math

import torch


def cutmix_boxes(
    n: int,
    height: int,
    width: int,
    p: float = 0.5,
    area: tuple[float, float] = (0.02, 0.4),
    ratio: tuple[float, float] = (0.3, 1 / 0.3),
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Boolean boxes ``(n, height, width)``, ``True`` in each image's box (if any: ``p``)."""
    boxes = torch.zeros(n, height, width, dtype=torch.bool)

    def uniform(low: float, high: float) -> float:
        return low + (high - low) * torch.rand(1, generator=generator).item()

    for i in range(n):
        if torch.rand(1, generator=generator).item() >= p:
            continue
        size = uniform(*area) * height * width
        for _ in range(100):  # [1] redraws until the box fits
            r = uniform(*ratio)
            w, h = int(math.sqrt(size / r)), int(math.sqrt(size * r))
            x = int(torch.randint(0, width, (1,), generator=generator))
            y = int(torch.randint(0, height, (1,), generator=generator))
            if x + w <= width and y + h <= height:
                break
        else:  # very elongated images: clip the last draw
            w, h = min(w, width - x), min(h, height - y)
        boxes[i, y : y + h, x : x + w] = True
    return boxes.to(device)


def cutmix(x: torch.Tensor, partner: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """``partner`` inside ``boxes`` ``(B, H, W)``, ``x`` elsewhere (``(B, [C,] H, W)``)."""
    return torch.where(boxes.unsqueeze(1) if x.ndim == 4 else boxes, partner, x)


def cutmix_flipped(x: torch.Tensor, p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``x`` ``(B, C, H, W)`` with boxes (each with probability ``p``) of ``x.flip(0)``."""
    b, _, h, w = x.shape
    boxes = cutmix_boxes(b, h, w, p=p, device=x.device)
    return cutmix(x, x.flip(0), boxes), boxes


def mixed_targets(
    pseudo: torch.Tensor, confidence: torch.Tensor, ignore: torch.Tensor, boxes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pseudo-labels, confidences and padding ``(B, H, W)``, the partner's inside ``boxes``."""
    return tuple(cutmix(t, t.flip(0), boxes) for t in (pseudo, confidence, ignore))
