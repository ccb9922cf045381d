"""Encoder weights of an SMP network from a local file (a state dict, a torchvision or timm
network, an ssl-core checkpoint; docs/segmentation.md): nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ssl_core import backbones
from ssl_core.errors import InputError

#: Prefixes under which a file may hold the encoder, most specific first: a segmentation
#: run's, an ssl-core method's (``Backbone.net``: a torchvision or timm model), others.
PREFIXES = tuple("network.encoder. backbone.net. backbone. encoder. module. model. net.".split())
#: Layers of a classification network after its last feature stage: not part of an SMP
#: encoder (timm ``features_only`` models drop them too), left out when the file has them.
HEAD_PREFIXES = ("fc.", "head.", "classifier.", "conv_head.", "bn2.", "norm.", "fc_norm.")


class EncoderWeightsError(InputError, ValueError):
    """A weights file that does not fit the encoder."""


def encoder_state_dict(
    state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The part of ``state`` whose prefix matches most keys of ``own`` (an encoder's state
    dict) without classifier layers, and the keys of those."""
    timm = "model." if own and all(k.startswith("model.") for k in own) else ""  # SMP's tu-
    parts = [{k.removeprefix(p): v for k, v in state.items() if k.startswith(p)} for p in PREFIXES]
    candidates = [
        {k if k.startswith(timm) else timm + k: v for k, v in part.items()}
        for part in [state, *filter(None, parts)]
    ]
    hits = [len(set(part) & set(own)) for part in candidates]
    best = candidates[hits.index(max(hits))]
    head = tuple(timm + p for p in HEAD_PREFIXES)
    left_out = {k for k in best if k not in own and k.startswith(head)}
    return {k: v for k, v in best.items() if k not in left_out}, sorted(left_out)


def adapt_first_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A first-conv ``weight`` ``(O, C, k, k)`` for ``in_channels``, as SMP's
    ``patch_first_conv``: summed for 1, else repeated and scaled by ``C / in_channels``."""
    if in_channels == 1:
        return weight.sum(1, keepdim=True)
    c = weight.shape[1]
    index = torch.arange(in_channels) % c
    return weight[:, index] * (c / in_channels)


def load_encoder_weights(encoder: nn.Module, path: str | Path) -> dict[str, list[str]]:
    """Load a local file's encoder part into ``encoder``; ``{"adapted": [first conv key],
    "left_out": [classifier keys]}``, or an :class:`EncoderWeightsError` listing misfits."""
    try:
        state = backbones.read_state_dict(path, "Encoder weights")
    except ValueError as err:
        raise EncoderWeightsError(str(err)) from None
    own = encoder.state_dict()
    part, left_out = encoder_state_dict(state, own)
    adapted = []
    convs = (name for name, m in encoder.named_modules() if isinstance(m, nn.Conv2d))
    first = f"{next(convs, None)}.weight"
    if first in part and first in own:
        w, target = part[first], own[first]
        same_kernels = w.shape[:1] + w.shape[2:] == target.shape[:1] + target.shape[2:]
        if w.ndim == 4 and w.shape[1] != target.shape[1] and same_kernels:
            part[first] = adapt_first_conv(w, target.shape[1])
            adapted.append(first)
    missing = sorted(set(own) - set(part))
    unexpected = sorted(set(part) - set(own))
    shape = sorted(k for k in set(own) & set(part) if own[k].shape != part[k].shape)
    if missing or unexpected or shape:
        lines = [f"Weights in {path} do not fit the encoder ({type(encoder).__name__}):"]
        shapes = [(k, tuple(part[k].shape), tuple(own[k].shape)) for k in shape]
        found = {"missing": missing, "unexpected": unexpected}
        for what, keys in {**found, "with another shape (file, encoder)": shapes}.items():
            if keys:
                lines.append(f"  {len(keys)} {what}: {keys[:10]}")
        lines.append(
            "  Is it the same encoder (e.g. resnet18 vs resnet50, a CIFAR stem)? Keys of the "
            f"file look like {sorted(state)[:5]}; keys of the encoder like {sorted(own)[:5]}."
        )
        raise EncoderWeightsError("\n".join(lines))
    encoder.load_state_dict({k: part[k] for k in own})
    return {"adapted": adapted, "left_out": left_out}
