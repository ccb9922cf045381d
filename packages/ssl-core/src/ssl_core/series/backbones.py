"""Backbones for series: a 1-D ResNet and a transformer over patches, mapping one view
``{"series": (B, C, T), "mask": (B, T)}`` (or a plain tensor ``(B, C, T)``, every step
real) to features ``(B, num_features)``; padding never changes an embedding (eval mode;
docs/series.md, "Backbones").

- [0] Wang, Yan, Oates, Time series classification from scratch with deep neural
  networks: a strong baseline, IJCNN 2017, https://arxiv.org/abs/1611.06455 (the ResNet)
- [1] Nie et al., A time series is worth 64 words (PatchTST), ICLR 2023,
  https://arxiv.org/abs/2211.14730 (patches of a series as tokens)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ssl_core.data.views import masked_mean


def as_view(x: dict[str, torch.Tensor] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(series (B, C, T), mask (B, T) bool)`` of a view dict or a plain tensor."""
    if isinstance(x, dict):
        return x["series"], x["mask"].to(torch.bool)
    return x, torch.ones(x.shape[0], x.shape[-1], dtype=torch.bool, device=x.device)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch norm of ``(B, C, T)`` whose training statistics count real steps only."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if mask is None or not self.training:
            return super().forward(x)
        m = mask[:, None, :].to(x.dtype)
        n = m.sum().clamp(min=2)
        mean = (x * m).sum(dim=(0, 2)) / n
        var = (((x - mean[None, :, None]) * m) ** 2).sum(dim=(0, 2)) / n
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                momentum = self.momentum if self.momentum is not None else 0.1
                self.running_mean.lerp_(mean, momentum)
                self.running_var.lerp_(var * n / (n - 1), momentum)
                self.num_batches_tracked += 1
        y = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + self.eps)
        if self.affine:
            y = y * self.weight[None, :, None] + self.bias[None, :, None]
        return y


class ConvNorm(nn.Module):
    """Conv1d ("same" length, odd kernel) + masked batch norm, padding zeroed."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"kernel sizes must be odd (same length), got {kernel}")
        self.conv = nn.Conv1d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
        self.norm = MaskedBatchNorm1d(c_out)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        # `--trainer.sync_batchnorm true` swaps the norm for torch's SyncBatchNorm, which
        # takes no mask: its statistics then count the padding too
        h = self.norm(h, mask) if isinstance(self.norm, MaskedBatchNorm1d) else self.norm(h)
        return h * mask[:, None, :]


class ResidualBlock1d(nn.Module):
    """Three conv + norm layers (ReLU between) and a 1x1 conv shortcut, as Wang et al."""

    def __init__(self, c_in: int, c_out: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        widths = (c_in,) + (c_out,) * len(kernels)
        self.layers = nn.ModuleList(
            ConvNorm(a, b, k) for a, b, k in zip(widths[:-1], widths[1:], kernels, strict=True)
        )
        self.shortcut = ConvNorm(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = x
        for layer in self.layers[:-1]:
            h = torch.relu(layer(h, mask))
        return torch.relu(self.layers[-1](h, mask) + self.shortcut(x, mask))


class ResNet1d(nn.Module):
    """1-D ResNet for series [0] with masked batch norm and masked global average pooling.

    Args:
        in_channels: Channels of the series (12 for JapaneseVowels, 2 for H1/L1 strain).
        widths: Channels of the residual blocks (the paper: 64, 128, 128).
        kernels: Odd kernel sizes of each block's three convolutions (the paper: 8, 5, 3).
        downsample: Stride of a stem convolution (kernel ``2 downsample + 1``) before the
            blocks: 1 (the paper, no stem), e.g. 4 for 1,024-step strain windows.
    """

    def __init__(
        self,
        in_channels: int = 1,
        widths: tuple[int, ...] = (64, 128, 128),
        kernels: tuple[int, ...] = (7, 5, 3),
        downsample: int = 1,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.downsample = downsample
        stem = downsample > 1
        self.stem = (
            ConvNorm(in_channels, widths[0], 2 * downsample + 1, downsample) if stem else None
        )
        ins = [widths[0] if stem else in_channels, *widths[:-1]]
        self.blocks = nn.ModuleList(
            ResidualBlock1d(a, b, tuple(kernels)) for a, b in zip(ins, widths, strict=True)
        )
        self.num_features = widths[-1]

    def forward(self, x: dict[str, torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """Features ``(B, num_features)`` of a view ``{"series": (B, C, T), "mask": (B, T)}``."""
        h, mask = as_view(x)
        h = h * mask[:, None, :]
        if self.stem is not None:
            mask = mask[:, :: self.downsample]
            h = torch.relu(self.stem(h, mask))
        for block in self.blocks:
            h = block(h, mask)
        return masked_mean(h, mask[:, None, :], dim=2)


class PatchTransformer1d(nn.Module):
    """A small transformer over non-overlapping patches of a series (PatchTST-like [1], all
    channels of a patch in one token), sinusoidal positions, masked mean pooling. A patch
    is real when its first step is.

    Args:
        in_channels: Channels of the series.
        patch_size: Steps per patch (4 for 7-29 steps; 16-32 for 1,024-step strain).
        dim: Token width, the output width.
        depth: Encoder layers.
        heads: Attention heads.
        mlp_ratio: Feed-forward width over ``dim``.
        dropout: Dropout in the encoder layers.
    """

    def __init__(
        self,
        in_channels: int = 1,
        patch_size: int = 8,
        dim: int = 128,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: float = 2.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.patch_size = patch_size
        self.embed = nn.Linear(in_channels * patch_size, dim)
        layer = nn.TransformerEncoderLayer(
            dim, heads, int(dim * mlp_ratio), dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.num_features = dim

    def forward(self, x: dict[str, torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """Features ``(B, dim)`` of a view ``{"series": (B, C, T), "mask": (B, T)}``."""
        series, mask = as_view(x)
        b, c, t = series.shape
        p = self.patch_size
        extra = (-t) % p
        series = nn.functional.pad(series * mask[:, None, :], (0, extra))
        mask = nn.functional.pad(mask, (0, extra))
        n = series.shape[2] // p
        tokens = series.reshape(b, c, n, p).permute(0, 2, 1, 3).reshape(b, n, c * p)
        real = mask[:, ::p]
        attend = real.clone()
        attend[:, 0] = True  # an empty series attends to something (and pools to zeros)
        # fixed sine/cosine position codes (Vaswani et al. 2017)
        dim, device = self.embed.out_features, series.device
        position = torch.arange(n, device=device, dtype=torch.float32)[:, None]
        frequency = torch.exp(torch.arange(0, dim, 2, device=device) * (-math.log(10000.0) / dim))
        positions = torch.zeros(n, dim, device=device)
        positions[:, 0::2] = torch.sin(position * frequency)
        positions[:, 1::2] = torch.cos(position * frequency[: dim // 2])
        h = self.encoder(self.embed(tokens) + positions, src_key_padding_mask=~attend)
        return masked_mean(self.norm(h), real[:, :, None], dim=1)
