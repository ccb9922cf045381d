"""Backbones for sets of particles: ``{"points": (B, P, F), "mask": (B, P)}`` -> ``(B, D)``,
permutation invariant and blind to padding (docs/jets.md, "The pieces").

- [0] Qu, Li, Qian, Particle Transformer for Jet Tagging, ICML 2022,
  https://arxiv.org/abs/2202.03772
- [1] Dillon et al., JetCLR, SciPost Phys. 12, 188 (2022), https://arxiv.org/abs/2108.04253
- [2] Komiske, Metodiev, Thaler, Energy Flow Networks: Deep Sets for Particle Jets,
  JHEP 01 (2019) 121, https://arxiv.org/abs/1810.05165
- [3] Touvron et al., Going deeper with Image Transformers (CaiT), ICCV 2021,
  https://arxiv.org/abs/2103.17239
- [4] Shleifer, Weston, Ott, NormFormer: Improved Transformer Pretraining with Extra
  Normalization, https://arxiv.org/abs/2110.09456
- weaver-core's ``weaver/nn/model/ParticleTransformer.py`` (MIT), the paper's code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.backbones import load_weights
from ssl_core.data.views import masked_mean
from ssl_core.points.features import NUM_FEATURES


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers = [m for a, b in pairwise(sizes) for m in (nn.Linear(a, b), nn.GELU())]
    return nn.Sequential(*layers[:-1])  # no GELU after the last layer


class PlainParticleTransformer(nn.Module):
    """A plain transformer encoder over a jet's particles and masked mean pooling
    (JetCLR's network [1]; docs/jets.md, "The pieces").

    Args:
        in_features: Features per particle ``F`` (7: :data:`~ssl_core.points.FEATURES`).
        embed_dim: Width ``D`` of the particle tokens and of the output.
        num_heads: Attention heads.
        num_layers: Encoder layers (ParT: 8 particle blocks; JetCLR: 4).
        ffn_dim: Hidden width of each layer's feed-forward block (default ``4 D``).
        dropout: Dropout in the encoder layers.
        weights: Optional local checkpoint to load (:func:`ssl_core.backbones.load_weights`).
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
        ffn = ffn_dim or 4 * embed_dim
        layer = nn.TransformerEncoderLayer(
            embed_dim, num_heads, ffn, dropout, activation="gelu", batch_first=True, norm_first=True
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


def pair_features(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """ParT's pairwise interaction features [0] (Eq. 3) ``(ln Delta, ln kT, ln z, ln m^2)``
    ``(..., 4)`` float32 of four-momenta ``a``, ``b`` ``(..., 4)`` (px, py, pz, E;
    broadcastable); ``m^2`` without Eq. 3's cancellation (docs/jets.md, "Inside
    ssl_core.points")."""
    with torch.autocast(a.device.type, enabled=False):
        (pt_a, y_a, phi_a, m2_a), (pt_b, y_b, phi_b, m2_b) = _pt_y_phi_m2(a), _pt_y_phi_m2(b)
        dy = y_a - y_b
        dphi = torch.remainder(phi_a - phi_b + math.pi, 2 * math.pi) - math.pi
        delta = torch.sqrt(dy * dy + dphi * dphi)
        pt_min = torch.minimum(pt_a, pt_b)
        mt_a, mt_b = torch.sqrt(m2_a + pt_a * pt_a), torch.sqrt(m2_b + pt_b * pt_b)
        # mT_a mT_b - pT_a pT_b, >= 0, without the difference
        cross = (m2_a * pt_b * pt_b + m2_b * pt_a * pt_a + m2_a * m2_b) / (
            mt_a * mt_b + pt_a * pt_b
        ).clamp(min=eps)
        angle = torch.sinh(dy / 2).square() + torch.sin(dphi / 2).square()
        m2 = m2_a + m2_b + 2 * (cross * torch.cosh(dy) + 2 * pt_a * pt_b * angle)
        out = [delta, pt_min * delta, pt_min / (pt_a + pt_b).clamp(min=eps), m2]
        return torch.log(torch.stack(out, dim=-1).clamp(min=eps))


def _pt_y_phi_m2(p: torch.Tensor, eps: float = 1e-8) -> tuple[torch.Tensor, ...]:
    """pT, rapidity, azimuth and mass squared (>= 0) of four-momenta ``(..., 4)``."""
    px, py, pz, e = p.float().unbind(-1)
    pt2 = px * px + py * py
    plus, minus = (e + pz).clamp(min=eps), (e - pz).clamp(min=eps)
    m2 = (plus * minus - pt2).clamp(min=0.0)  # mT^2 - pT^2
    return torch.sqrt(pt2).clamp(min=eps), 0.5 * torch.log(plus / minus), torch.atan2(py, px), m2


class PairEmbedding(nn.Module):
    """ParT's interaction embedding [0]: :func:`pair_features` of every pair of real
    particles through a pointwise MLP (weaver-core's 1x1 convolutions), one attention
    bias per head. Only real pairs with ``i <= j`` are embedded (weaver-core's sparse
    path), so BatchNorm sees real pairs only: shuffling or padding a jet changes nothing.
    """

    def __init__(self, dims: Sequence[int], num_heads: int) -> None:
        super().__init__()
        widths = pairwise([4, *dims, num_heads])
        layers: list[nn.Module] = [nn.BatchNorm1d(4)]
        layers += [m for a, b in widths for m in (nn.Linear(a, b), nn.BatchNorm1d(b), nn.GELU())]
        self.net = nn.Sequential(*layers[:-1])  # pre-activation bias: no last GELU
        self.num_heads = num_heads

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention bias ``(B, H, P, P)`` of four-momenta ``(B, P, 4)`` with ``mask``
        ``(B, P)``."""
        b, p = mask.shape
        jet, i, j = (mask[:, :, None] & mask[:, None, :]).triu().nonzero(as_tuple=True)
        h = self.net(pair_features(vectors[jet, i], vectors[jet, j]))  # (N, H)
        bias = h.new_zeros(b, p, p, self.num_heads)
        bias[jet, i, j] = h
        bias[jet, j, i] = h
        return bias.permute(0, 3, 1, 2)


class ParticleAttentionBlock(nn.Module):
    """A ParT block [0]: particle attention (P-MHA, the pair bias added to its logits) or
    class attention (CaiT [3]), then a feed-forward network, with NormFormer's extra
    LayerNorms [4] and learned scales of the heads and of the FFN's residual
    (weaver-core's ``c_attn`` and ``w_resid``)."""

    def __init__(
        self, embed_dim: int, num_heads: int, ffn_ratio: int = 4, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not a multiple of num_heads {num_heads}")
        self.num_heads, self.dropout = num_heads, dropout
        self.pre_attn_norm = nn.LayerNorm(embed_dim)
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.head_scale = nn.Parameter(torch.ones(num_heads))
        self.post_attn_norm = nn.LayerNorm(embed_dim)
        self.pre_fc_norm = nn.LayerNorm(embed_dim)
        self.fc1 = nn.Linear(embed_dim, ffn_ratio * embed_dim)
        self.post_fc_norm = nn.LayerNorm(ffn_ratio * embed_dim)
        self.fc2 = nn.Linear(ffn_ratio * embed_dim, embed_dim)
        self.resid_scale = nn.Parameter(torch.ones(embed_dim))
        self.drop = nn.Dropout(dropout)

    def attention(
        self, query: torch.Tensor, keys: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        """Multi-head attention of ``query`` ``(B, Q, D)`` over ``keys`` ``(B, K, D)`` with
        the additive logit ``bias`` ``(B, H or 1, Q or 1, K)``; ``(B, Q, D)`` out."""
        (b, q, d), k, h = query.shape, keys.shape[1], self.num_heads
        w, bi = self.qkv.weight, self.qkv.bias
        query = F.linear(query, w[:d], bi[:d]).view(b, q, h, d // h).transpose(1, 2)
        key, value = F.linear(keys, w[d:], bi[d:]).view(b, k, 2, h, d // h).unbind(2)
        out = F.scaled_dot_product_attention(
            query,
            key.transpose(1, 2),
            value.transpose(1, 2),
            attn_mask=bias.to(query.dtype),
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, H, Q, D / H)
        out = self.out_proj(out.transpose(1, 2).reshape(b, q, d))
        # the per-head scale multiplies the H slices of the projected output, after
        # out_proj (as weaver-core's code does; NormFormer scales the heads before it)
        return (out.view(b, q, h, d // h) * self.head_scale.view(1, 1, h, 1)).view(b, q, d)

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor, cls: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Particle tokens ``x`` ``(B, P, D)`` updated (``bias`` ``(B, H, P, P)``), or with a
        class token ``cls`` ``(B, 1, D)`` that token (``bias`` ``(B, 1, 1, 1 + P)``)."""
        if cls is None:
            residual = x
            u = self.pre_attn_norm(x)
            h = self.attention(u, u, bias)
        else:
            residual = cls
            u = self.pre_attn_norm(torch.cat([cls, x], dim=1))
            h = self.attention(cls, u, bias)  # weaver-core: the query is the token unnormed
        x = residual + self.drop(self.post_attn_norm(h))
        h = self.drop(F.gelu(self.fc1(self.pre_fc_norm(x))))
        h = self.drop(self.fc2(self.post_fc_norm(h)))
        return self.resid_scale * x + h


class ParticleTransformer(nn.Module):
    """Particle Transformer (ParT) [0]: particle tokens (an MLP of each particle's
    features) attend to each other with the embedded :func:`pair_features` of every pair
    added to the attention logits (P-MHA), then a class token attends to them (class
    attention); its final norm is the jet's embedding ``(B, D)``. The pair features come
    from the view's ``vectors`` ``(B, P, 4)``; departures: docs/jets.md, "Inside ssl_core.points".

    Args:
        in_features: Features per particle ``F`` (7: :data:`~ssl_core.points.FEATURES`).
        embed_dims: Widths of the particle embedding MLP; the last is ``D``, the output's.
        pair_embed_dims: Hidden widths of the pair-feature embedding; ``None``: no pair
            features (the paper's "ParT (plain)", no ``vectors`` needed).
        num_heads: Attention heads ``H`` (ParT: 8).
        num_layers: Particle-attention blocks (ParT: 8).
        num_cls_layers: Class-attention blocks (ParT: 2).
        ffn_ratio: Feed-forward hidden width over ``D`` (ParT: 4).
        dropout: Dropout in the particle blocks (ParT: 0.1; class blocks have none).
        weights: Optional local checkpoint to load (:func:`ssl_core.backbones.load_weights`).
    """

    def __init__(
        self,
        in_features: int = NUM_FEATURES,
        embed_dims: Sequence[int] = (128, 512, 128),
        pair_embed_dims: Sequence[int] | None = (64, 64, 64),
        num_heads: int = 8,
        num_layers: int = 8,
        num_cls_layers: int = 2,
        ffn_ratio: int = 4,
        dropout: float = 0.1,
        weights: str | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_features = embed_dim = int(embed_dims[-1])
        widths = pairwise([in_features, *embed_dims])
        layers = [m for a, b in widths for m in (nn.LayerNorm(a), nn.Linear(a, b), nn.GELU())]
        self.embed = nn.Sequential(*layers)
        self.pair_embed = (
            PairEmbedding(pair_embed_dims, num_heads) if pair_embed_dims is not None else None
        )
        self.blocks = nn.ModuleList(
            ParticleAttentionBlock(embed_dim, num_heads, ffn_ratio, dropout)
            for _ in range(num_layers)
        )
        self.cls_blocks = nn.ModuleList(
            ParticleAttentionBlock(embed_dim, num_heads, ffn_ratio, 0.0)
            for _ in range(num_cls_layers)
        )
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.norm = nn.LayerNorm(embed_dim)
        for name, module in self.named_modules():
            if isinstance(module, nn.Linear):
                if name.endswith("qkv"):  # query, key and value each its own fan
                    bound = math.sqrt(6.0 / (module.out_features // 3 + module.in_features))
                    nn.init.uniform_(module.weight, -bound, bound)
                else:
                    nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            for layer, block in enumerate(self.blocks, start=1):
                block.out_proj.weight.div_(math.sqrt(2.0 * layer))
                block.fc2.weight.div_(math.sqrt(2.0 * layer))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        if weights is not None:
            load_weights(self, weights)

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embeddings ``(B, num_features)`` of ``{"points": (B, P, F), "mask": (B, P),
        "vectors": (B, P, 4)}``."""
        points, mask = x["points"], x["mask"]
        b = len(mask)
        tokens = self.embed(points) * mask.unsqueeze(-1).to(points.dtype)
        pad = torch.zeros_like(tokens[..., 0]).masked_fill(~mask, float("-inf"))[:, None, None]
        bias = pad  # (B, 1, 1, P)
        if self.pair_embed is not None:
            if "vectors" not in x:
                raise ValueError(
                    "ParticleTransformer computes its pair features from the particles' "
                    'four-momenta, the view\'s "vectors": give the jets modality '
                    "vectors: true (ssl_core.points.Points)"
                )
            bias = self.pair_embed(x["vectors"], mask).to(tokens.dtype) + pad
        for block in self.blocks:
            tokens = block(tokens, bias)
        cls = self.cls_token.expand(b, -1, -1)
        cls_bias = F.pad(pad, (1, 0))  # the class token is a key of its own, never masked
        for block in self.cls_blocks:
            cls = block(tokens, cls_bias, cls=cls)
        return self.norm(cls.squeeze(1))


class ParticleFlowNetwork(nn.Module):
    """Particle Flow Network (Deep Sets): ``F(sum_i Phi(p_i))`` over real particles.

    Args:
        in_features: Features per particle.
        phi_sizes: Widths of the per-particle network ``Phi`` (the paper's (100, 100, 256)).
        f_sizes: Widths of the network ``F`` on the sum; the last is ``num_features``.
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
        h = self.phi(x["points"])
        return self.f((h * x["mask"].unsqueeze(-1).to(h.dtype)).sum(1))
