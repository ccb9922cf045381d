"""Backbones for sets of particles: ``{"points": (B, P, F), "mask": (B, P)}`` -> ``(B, D)``.

Both are permutation invariant (no positional encoding, symmetric pooling) and ignore
padding (attention keys and pooling masked), so shuffling a jet's particles or padding
it further leaves its embedding unchanged. Like :class:`ssl_core.backbones.Backbone`
they expose their output width as ``num_features`` (what methods size their heads by)
and load local weights with ``weights`` (e.g. a SimCLR checkpoint, for fine-tuning).

- [0] Qu, Li, Qian, Particle Transformer for Jet Tagging, ICML 2022,
  https://arxiv.org/abs/2202.03772
- [1] Dillon et al., JetCLR, SciPost Phys. 12, 188 (2022), https://arxiv.org/abs/2108.04253
- [2] Komiske, Metodiev, Thaler, Energy Flow Networks: Deep Sets for Particle Jets,
  JHEP 01 (2019) 121, https://arxiv.org/abs/1810.05165
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ssl_core.backbones import load_weights
from ssl_core.data.views import masked_mean
from ssl_core.points.features import NUM_FEATURES


def masked_sum(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum over real particles: ``(B, P, D)``, ``(B, P)`` -> ``(B, D)``."""
    return (h * mask.unsqueeze(-1).to(h.dtype)).sum(1)


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


class ParticleTransformer(nn.Module):
    """A transformer over a jet's particles, masked mean pooling (JetCLR's network; a
    small Particle Transformer without its pairwise interaction terms and class tokens).

    Each particle's features go through an MLP embedding, then ``num_layers`` pre-norm
    encoder layers (``torch.nn.TransformerEncoder``) with the padding as
    ``src_key_padding_mask``, a final LayerNorm, and the mean over real particles.

    Args:
        in_features: Features per particle ``F`` (7: :data:`~ssl_core.points.FEATURES`).
        embed_dim: Width ``D`` of the particle tokens and of the output.
        num_heads: Attention heads.
        num_layers: Encoder layers (ParT: 8 particle blocks; JetCLR: 4).
        ffn_dim: Hidden width of each layer's feed-forward block (default ``4 D``).
        dropout: Dropout in the encoder layers.
        weights: Optional local checkpoint to load (see
            :func:`ssl_core.backbones.load_weights`).
    """

    def __init__(
        self,
        in_features: int = NUM_FEATURES,
        embed_dim: int = 128,
        num_heads: int = 8,
        num_layers: int = 4,
        ffn_dim: int | None = None,
        dropout: float = 0.0,
        weights: str | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_features = embed_dim
        self.embed = _mlp([in_features, embed_dim, embed_dim])
        layer = nn.TransformerEncoderLayer(
            embed_dim,
            num_heads,
            ffn_dim or 4 * embed_dim,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)
        if weights is not None:
            load_weights(self, weights)

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embeddings ``(B, num_features)`` of ``{"points": (B, P, F), "mask": (B, P)}``."""
        points, mask = x["points"], x["mask"]
        h = self.encoder(self.embed(points), src_key_padding_mask=~mask)
        return masked_mean(self.norm(h), mask.unsqueeze(-1), dim=1)


class ParticleFlowNetwork(nn.Module):
    """Particle Flow Network (Deep Sets): ``F(sum_i Phi(p_i))`` over real particles.

    Args:
        in_features: Features per particle.
        phi_sizes: Hidden and latent widths of the per-particle network ``Phi``
            (the paper's (100, 100, 256)).
        f_sizes: Widths of the network ``F`` on the sum; the last is ``num_features``
            (the paper's (100, 100, 100) before its classifier).
        weights: Optional local checkpoint to load.
    """

    def __init__(
        self,
        in_features: int = NUM_FEATURES,
        phi_sizes: Sequence[int] = (100, 100, 256),
        f_sizes: Sequence[int] = (100, 100, 128),
        weights: str | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_features = int(f_sizes[-1])
        self.phi = nn.Sequential(_mlp([in_features, *phi_sizes]), nn.GELU())
        self.f = _mlp([int(phi_sizes[-1]), *f_sizes])
        if weights is not None:
            load_weights(self, weights)

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embeddings ``(B, num_features)`` of ``{"points": (B, P, F), "mask": (B, P)}``."""
        return self.f(masked_sum(self.phi(x["points"]), x["mask"]))
