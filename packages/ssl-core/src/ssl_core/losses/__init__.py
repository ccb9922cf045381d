"""Losses that lightly does not have, as plain ``nn.Module``s (one per file)."""

from ssl_core.losses.supcon import SupConLoss

__all__ = ["SupConLoss"]
