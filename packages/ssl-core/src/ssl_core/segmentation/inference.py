"""Whole-image inference at any size: padded to the network's stride (32 for SMP's
5-stage encoders), or by sliding windows whose probabilities are averaged where they
overlap (as UniMatch's sliding-window evaluation): the memory of one window.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Literal

import torch
import torch.nn.functional as F

PadMode = Literal["reflect", "constant"]
Network = Callable[[torch.Tensor], torch.Tensor]


def pad_to_multiple(
    x: torch.Tensor, multiple: int, mode: PadMode = "reflect"
) -> tuple[torch.Tensor, tuple[int, int]]:
    """``x`` ``(B, C, H, W)`` padded at the bottom and right to ``multiple``, and its ``(H, W)``
    (long paddings of tiny images repeat the edge instead of reflecting it)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)  # constant: zeros


def padded_probabilities(
    net: Network, x: torch.Tensor, multiple: int = 32, mode: PadMode = "reflect"
) -> torch.Tensor:
    """Class probabilities ``(B, K, H, W)`` of images ``(B, C, H, W)`` of any size."""
    padded, (h, w) = pad_to_multiple(x, multiple, mode)
    return net(padded).softmax(dim=1)[..., :h, :w]


def window_starts(size: int, window: int, step: int) -> list[int]:
    """Starts of windows of ``window`` px every ``step`` px, the last one ending at ``size``."""
    return [*range(0, size - window, step), size - window] if size > window else [0]


def sliding_window_probabilities(
    net: Network,
    x: torch.Tensor,
    window: int | None,
    overlap: float = 0.25,
    multiple: int = 32,
    mode: PadMode = "reflect",
) -> torch.Tensor:
    """Class probabilities ``(B, K, H, W)`` of images ``(B, C, H, W)`` by windows of ``window``
    px overlapping by ``overlap`` in [0, 1) (``None``: the whole image at once)."""
    h, w = x.shape[-2:]
    if window is None or (h <= window and w <= window):
        return padded_probabilities(net, x, multiple, mode)
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), not {overlap}")
    step = max(int(window * (1 - overlap)), 1)
    total: torch.Tensor | None = None
    count = torch.zeros(1, 1, h, w, device=x.device, dtype=x.dtype)
    for top, left in product(window_starts(h, window, step), window_starts(w, window, step)):
        region = (..., slice(top, top + window), slice(left, left + window))  # clipped at edges
        probs = padded_probabilities(net, x[region], multiple, mode)
        if total is None:
            total = torch.zeros(x.shape[0], probs.shape[1], h, w, device=x.device)
        total[region] += probs
        count[region] += 1
    return total / count
