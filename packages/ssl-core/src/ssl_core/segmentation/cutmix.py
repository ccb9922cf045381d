"""CutMix for semi-supervised segmentation, made on the batch.

- [0] CutMix, Yun et al. ICCV 2019, https://arxiv.org/abs/1905.04899
- [1] UniMatch, Yang et al. CVPR 2023, https://github.com/LiheYoung/UniMatch
  (``obtain_cutmix_box`` in ``dataset/transform.py``)

A box (probability ``p``, area U(0.02, 0.4) of the image, aspect ratio U(0.3, 1/0.3),
[1]'s recipe) is drawn per image; inside it the strong view shows another unlabeled
image, and its target (pseudo-label, confidence, padding) is that image's. Departure
from [1]: the other image is the batch's own ``flip(0)`` (UniMatch V2's choice, no
second unlabeled loader); with a batch of one image the box mixes the image with itself.
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
    """Boolean boxes ``(n, height, width)``: ``True`` inside each image's box (an image
    gets no box with probability ``1 - p``)."""
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
    return boxes.to(device) if device is not None else boxes


def cutmix(x: torch.Tensor, partner: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """``partner`` inside ``boxes`` ``(B, H, W)``, ``x`` elsewhere; ``x`` and ``partner``
    are images ``(B, C, H, W)`` or per-pixel maps ``(B, H, W)``."""
    mask = boxes.unsqueeze(1) if x.ndim == 4 else boxes
    return torch.where(mask, partner, x)
