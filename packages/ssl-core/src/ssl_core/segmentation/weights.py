"""Encoder weights of an SMP network from a local file (nothing is downloaded).

Three kinds of file fit :func:`load_encoder_weights`:

- a plain state dict of the encoder (what ``network.encoder.state_dict()`` saves);
- a torchvision-style (or timm) ResNet state dict: SMP's ResNet encoders are torchvision
  ResNets without ``fc`` (the classifier in the file is left out), SMP's ``tu-<name>``
  encoders hold the timm model under ``model.``;
- an ssl-core checkpoint (a Lightning ``.ckpt`` of e.g. SimCLR): its ``backbone.net.*``
  keys (:class:`ssl_core.backbones.Backbone` keeps the torchvision/timm network as
  ``net``) are the encoder; projection heads, teachers and queues are left out. A
  segmentation run's own checkpoint works too (``network.encoder.*``).

A first convolution saved for another channel count (e.g. a 3-channel SimCLR stem into a
1- or 4-channel U-Net) is adapted as SMP adapts its pretrained stems
(``encoder.set_in_channels(C, pretrained=True)``): summed over channels for 1 channel,
else repeated cyclically and scaled by ``3 / C``. Anything else that does not fit is an
error listing the missing, unexpected and mis-shaped keys.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ssl_core import backbones
from ssl_core.errors import InputError

#: Prefixes under which a file may hold the encoder, most specific first.
PREFIXES = (
    "network.encoder.",  # a segmentation run of this package
    "backbone.net.",  # an ssl-core method (Backbone.net: torchvision or timm model)
    "backbone.",
    "encoder.",
    "module.",
    "model.",
    "net.",
)
#: Layers of a classification network after its last feature stage: not part of an SMP
#: encoder (timm ``features_only`` models drop them too), left out when the file has them.
HEAD_PREFIXES = ("fc.", "head.", "classifier.", "conv_head.", "bn2.", "norm.", "fc_norm.")


class EncoderWeightsError(InputError, ValueError):
    """A weights file that does not fit the encoder."""


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a local checkpoint (:func:`ssl_core.backbones.read_state_dict`)."""
    try:
        return backbones.read_state_dict(path, "Encoder weights")
    except ValueError as err:
        raise EncoderWeightsError(str(err)) from None


def _candidates(state: dict[str, torch.Tensor]):
    yield state
    for prefix in PREFIXES:
        part = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
        if part:
            yield part


def encoder_state_dict(
    state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The part of ``state`` that names the keys of ``own`` (an encoder's state dict):
    the prefix choice that matches most keys, with ``model.`` added for SMP's timm
    encoders; classifier layers not in ``own`` are left out (their keys: the second
    value)."""
    timm_style = bool(own) and all(k.startswith("model.") for k in own)
    best, best_hits = state, -1
    for part in _candidates(state):
        if timm_style:
            part = {k if k.startswith("model.") else f"model.{k}": v for k, v in part.items()}
        hits = len(set(part) & set(own))
        if hits > best_hits:
            best, best_hits = part, hits
    head = tuple(("model." + p) if timm_style else p for p in HEAD_PREFIXES)
    left_out = {k for k in best if k not in own and k.startswith(head)}
    return {k: v for k, v in best.items() if k not in left_out}, sorted(left_out)


def _first_conv(encoder: nn.Module) -> str | None:
    """State-dict key of the encoder's first convolution weight."""
    for name, module in encoder.named_modules():
        if isinstance(module, nn.Conv2d):
            return f"{name}.weight"
    return None


def adapt_first_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A first-conv ``weight`` ``(O, C, k, k)`` for ``in_channels`` input channels, as
    SMP's ``patch_first_conv``: the sum over channels for 1, else channels repeated
    cyclically and scaled by ``C / in_channels``."""
    if in_channels == 1:
        return weight.sum(1, keepdim=True)
    c = weight.shape[1]
    index = torch.arange(in_channels) % c
    return weight[:, index] * (c / in_channels)


def load_encoder_weights(encoder: nn.Module, path: str | Path) -> dict[str, list[str]]:
    """Load the encoder part of a local file into ``encoder`` (see the module docstring).

    Returns:
        ``{"adapted": [...], "left_out": [...]}``: keys whose first conv was adapted to
        the channel count, and classifier keys of the file that were left out.

    Raises:
        FileNotFoundError: no such file.
        EncoderWeightsError: the keys or shapes do not fit (the message lists them).
    """
    state = read_state_dict(path)
    own = encoder.state_dict()
    part, left_out = encoder_state_dict(state, own)
    adapted = []
    first = _first_conv(encoder)
    if first in part and first in own:
        w, target = part[first], own[first]
        if w.ndim == 4 and w.shape[1] != target.shape[1] and w.shape[2:] == target.shape[2:]:
            if w.shape[0] == target.shape[0]:
                part[first] = adapt_first_conv(w, target.shape[1])
                adapted.append(first)
    missing = sorted(set(own) - set(part))
    unexpected = sorted(set(part) - set(own))
    shape = sorted(k for k in set(own) & set(part) if own[k].shape != part[k].shape)
    if missing or unexpected or shape:
        lines = [f"Weights in {path} do not fit the encoder ({type(encoder).__name__}):"]
        if missing:
            lines.append(f"  {len(missing)} missing: {missing[:10]}")
        if unexpected:
            lines.append(f"  {len(unexpected)} unexpected: {unexpected[:10]}")
        if shape:
            lines.append(
                f"  {len(shape)} with another shape (file, encoder): "
                + str([(k, tuple(part[k].shape), tuple(own[k].shape)) for k in shape[:10]])
            )
        lines.append(
            "  Is it the same encoder (e.g. resnet18 vs resnet50, a CIFAR stem)? Keys of the "
            f"file look like {sorted(state)[:5]}; keys of the encoder like {sorted(own)[:5]}."
        )
        raise EncoderWeightsError("\n".join(lines))
    encoder.load_state_dict({k: part[k] for k in own})
    return {"adapted": adapted, "left_out": left_out}
