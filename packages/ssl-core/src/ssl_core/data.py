"""Shared datamodule behaviour: normalization on the device.

Datasets return ``uint8`` images (or lists of views); :class:`ViewsDataModule`
turns every ``uint8`` image tensor of a batch into normalized ``float32`` after the
batch reaches the device, so the CPU workers only decode and augment.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from lightning.pytorch import LightningDataModule


def normalize_batch(batch, mean: torch.Tensor, std: torch.Tensor):
    """Normalize every ``uint8`` ``(B, C, H, W)`` tensor found in a (nested) batch."""
    if isinstance(batch, torch.Tensor):
        if batch.dtype == torch.uint8 and batch.ndim == 4:
            m = mean.to(batch.device).view(1, -1, 1, 1)
            s = std.to(batch.device).view(1, -1, 1, 1)
            return (batch.float().div_(255.0) - m) / s
        return batch
    if isinstance(batch, list | tuple):
        return type(batch)(normalize_batch(b, mean, std) for b in batch)
    if isinstance(batch, dict):
        return {k: normalize_batch(v, mean, std) for k, v in batch.items()}
    return batch


class DataNotFoundError(FileNotFoundError):
    """A dataset is not where it is expected and could not be had; the message says
    where it is expected and how to provide it (``train`` prints it without a traceback)."""


class ViewsDataModule(LightningDataModule):
    """Base datamodule: per-channel ``mean``/``std`` (in [0, 1] units) applied on device.

    Args:
        mean: Per-channel mean of the images.
        std: Per-channel standard deviation of the images.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.mean = torch.tensor(mean, dtype=torch.float32)
        self.std = torch.tensor(std, dtype=torch.float32)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        return normalize_batch(batch, self.mean, self.std)
