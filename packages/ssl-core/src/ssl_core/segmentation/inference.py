"""Whole-image inference at any size: pad to the network's stride, or a sliding window.

SMP networks need sides divisible by their output stride (32 for a 5-stage encoder).
:func:`padded_probabilities` pads the bottom and right of an image (reflect, or zeros)
to the next multiple, runs the network once and crops the class probabilities back to
the image. :func:`sliding_window_probabilities` does the same per window of ``window``
px, windows overlapping by ``overlap`` of their side (the last window of a row or column
ends at the image's edge), and averages the probabilities where windows overlap (as
UniMatch's sliding-window evaluation): the memory of one window, whatever the image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F

PadMode = Literal["reflect", "constant"]


def pad_to_multiple(
    x: torch.Tensor, multiple: int, mode: PadMode = "reflect"
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad ``x`` ``(B, C, H, W)`` at the bottom and right to sides divisible by
    ``multiple``; return it and the original ``(H, W)``. Reflection needs the padding to
    be smaller than the side: longer paddings of tiny images repeat the edge instead."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "replicate"
    kwargs = {"value": 0.0} if mode == "constant" else {}
    return F.pad(x, (0, pw, 0, ph), mode=mode, **kwargs), (h, w)


def padded_probabilities(
    net: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    multiple: int = 32,
    mode: PadMode = "reflect",
) -> torch.Tensor:
    """Class probabilities ``(B, K, H, W)`` of images ``(B, C, H, W)`` of any size."""
    padded, (h, w) = pad_to_multiple(x, multiple, mode)
    return net(padded).softmax(dim=1)[..., :h, :w]


def window_starts(size: int, window: int, step: int) -> list[int]:
    """Starts of windows of ``window`` px every ``step`` px along a side of ``size`` px,
    the last one ending at the edge (one window at 0 when the side is not longer)."""
    if size <= window:
        return [0]
    starts = list(range(0, size - window, step))
    return [*starts, size - window]


def sliding_window_probabilities(
    net: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    window: int,
    overlap: float = 0.25,
    multiple: int = 32,
    mode: PadMode = "reflect",
) -> torch.Tensor:
    """Class probabilities ``(B, K, H, W)`` of images ``(B, C, H, W)``, window by window.

    Args:
        net: Logits ``(B, K, h, w)`` of images ``(B, C, h, w)`` with sides divisible by
            ``multiple``.
        x: The images.
        window: Side of the windows in px (a multiple of ``multiple`` avoids padding
            inside the image).
        overlap: Share of a window's side that neighbouring windows overlap, in [0, 1).
        multiple: The network's stride: windows (and images smaller than a window) are
            padded to it.
        mode: Padding of the windows: ``reflect`` or ``constant`` (zeros).
    """
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), not {overlap}")
    h, w = x.shape[-2:]
    if h <= window and w <= window:
        return padded_probabilities(net, x, multiple, mode)
    step = max(int(window * (1 - overlap)), 1)
    total: torch.Tensor | None = None
    count = torch.zeros(1, 1, h, w, device=x.device, dtype=x.dtype)
    for top in window_starts(h, window, step):
        for left in window_starts(w, window, step):
            tile = x[..., top : top + window, left : left + window]
            probs = padded_probabilities(net, tile, multiple, mode)
            if total is None:
                total = torch.zeros(x.shape[0], probs.shape[1], h, w, device=x.device)
            th, tw = tile.shape[-2:]
            total[..., top : top + th, left : left + tw] += probs
            count[..., top : top + th, left : left + tw] += 1
    return total / count
