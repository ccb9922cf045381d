"""Domain shift of evaluation images: a fixed corruption standing for a shifted instrument.

A shift is given as ``KIND:AMOUNT`` (what a datamodule's ``shift`` option takes):

- ``noise:S``: additive Gaussian noise, standard deviation S in units of the full range
  (``noise:0.1`` = 25.5 grey levels on ``uint8``), per channel (albumentations
  ``GaussNoise``).
- ``hue:H``: hue rotated by H of the full circle (``hue:0.1`` = 36 degrees; RGB only;
  albumentations ``HueSaturationValue``, whose ``uint8`` hue unit is OpenCV's 0-180).
- ``blur:S``: Gaussian blur of sigma S pixels (albumentations ``GaussianBlur``, kernel
  from sigma).

The shift is applied to the *final* evaluation view (after resize and crop), so its size
means the same whatever the source resolution. Noise is random per image; with dataloader
workers its draw depends on the worker split, the other shifts are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

import albumentations as A
import numpy as np
import torch

KINDS = ("noise", "hue", "blur")


def parse_shift(spec: str) -> tuple[str, float]:
    """``"noise:0.1"`` -> ``("noise", 0.1)``; a clear error for anything else."""
    kind, sep, amount = spec.partition(":")
    kind = kind.strip().lower()
    try:
        value = float(amount)
    except ValueError:
        value = None
    if not sep or kind not in KINDS or value is None or value < 0:
        raise ValueError(
            f"Bad shift {spec!r}: expected KIND:AMOUNT with KIND one of {KINDS} and AMOUNT >= 0, "
            "e.g. 'noise:0.1' (sigma, fraction of the range), 'hue:0.1' (fraction of the hue "
            "circle) or 'blur:2' (sigma in pixels)."
        )
    return kind, value


def shift_op(spec: str) -> A.BasicTransform:
    """The albumentations transform of a shift spec (always applied, ``p=1``)."""
    kind, value = parse_shift(spec)
    if kind == "noise":
        return A.GaussNoise(
            std_range=(value, value), mean_range=(0.0, 0.0), per_channel=True, p=1.0
        )
    if kind == "hue":
        degrees = value * 180.0  # OpenCV's uint8 hue runs over 0-180 for the full circle
        return A.HueSaturationValue(
            hue_shift_limit=(degrees, degrees),
            sat_shift_limit=(0, 0),
            val_shift_limit=(0, 0),
            p=1.0,
        )
    return A.GaussianBlur(blur_limit=0, sigma_limit=(value, value), p=1.0)


class ShiftTransform:
    """Apply a shift after another image transform.

    Args:
        base: The evaluation transform, mapping ``uint8`` ``(H, W, C)`` arrays to ``uint8``
            ``(C, H, W)`` tensors (e.g. :class:`ssl_core.transforms.EvalTransform`).
        spec: Shift spec (see the module docstring).
    """

    def __init__(self, base: Callable[[np.ndarray], torch.Tensor], spec: str) -> None:
        self.base = base
        self.spec = spec
        self.kind, self.amount = parse_shift(spec)
        self.op = shift_op(spec)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        view = self.base(image)
        array = np.ascontiguousarray(view.numpy().transpose(1, 2, 0))
        if self.kind == "hue" and array.shape[2] != 3:
            raise ValueError(f"Shift {self.spec!r} needs RGB images, not {array.shape[2]} channels")
        shifted = self.op(image=array)["image"]
        if shifted.ndim == 2:
            shifted = shifted[:, :, None]
        return torch.from_numpy(np.ascontiguousarray(shifted.transpose(2, 0, 1)))

    def __repr__(self) -> str:
        return f"ShiftTransform({self.base!r}, {self.spec!r})"
