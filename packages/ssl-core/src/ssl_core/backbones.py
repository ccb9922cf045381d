"""Backbones by name: torchvision ResNets and any timm model, any input channel count.
Details: docs/methods.md, "Backbones".
"""

from __future__ import annotations

import pickle
from pathlib import Path

import timm
import torch
import torchvision
from torch import nn

from ssl_core.errors import BadInputError, MissingInputError

TORCHVISION_RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


class Backbone(nn.Module):
    """Feature extractor with a known output width.

    Args:
        name: ``resnet18``/``resnet50``/... (torchvision) or ``timm:<model>`` / any timm
            model name (e.g. ``timm:convnext_tiny``, ``vit_small_patch16_224``).
        in_channels: Image channels (3 for RGB; 1, 4, 13, ... for science images).
        weights: Optional path to a local checkpoint (state dict, a Lightning checkpoint
            or ``{"state_dict": ...}``); loaded with ``weights_only=True``.
        cifar_stem: A ResNet's stem as a 3x3/stride-1 conv without max-pool (32-64 px).
        keep_fc: Keep a torchvision ResNet's last layer ``fc``: its output is then the
            features (e.g. a SimCLR ResNet-50 whose saved net ends in ``fc``), its width
            that of ``fc.weight`` in ``weights`` (1000 without). Off: a file's ``fc.*`` is
            ignored.
    """

    def __init__(
        self,
        name: str = "resnet18",
        in_channels: int = 3,
        weights: str | None = None,
        cifar_stem: bool = False,
        keep_fc: bool = False,
    ) -> None:
        super().__init__()
        self.name = name
        self.in_channels = in_channels
        state = read_state_dict(weights) if weights is not None else None
        if name in TORCHVISION_RESNETS:
            net = getattr(torchvision.models, name)(weights=None)
            if in_channels != 3 or cifar_stem:
                kernel, stride, pad = (3, 1, 1) if cifar_stem else (7, 2, 3)
                net.conv1 = nn.Conv2d(in_channels, 64, kernel, stride, pad, bias=False)
            if cifar_stem:
                net.maxpool = nn.Identity()
            if keep_fc:
                fc = net.fc.weight
                if state is not None:
                    fc = strip_prefixes(state, net.state_dict()).get("fc.weight")
                    if fc is None or fc.ndim != 2:
                        raise BadInputError(
                            f"keep_fc=True but {weights} holds no linear fc layer (fc.weight "
                            "of shape (out, in))."
                        )
                net.fc = nn.Linear(net.fc.in_features, fc.shape[0])
                self.num_features = fc.shape[0]
            else:
                self.num_features = net.fc.in_features
                net.fc = nn.Identity()
            self.net = net
        else:
            if keep_fc:
                raise ValueError(f"keep_fc is for torchvision ResNets ({TORCHVISION_RESNETS})")
            self.net = timm.create_model(
                name.removeprefix("timm:"), pretrained=False, num_classes=0, in_chans=in_channels
            )
            self.num_features = self.net.num_features
        if state is not None:
            load_weights(self.net, state, weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(B, num_features)`` of images ``(B, in_channels, H, W)``."""
        return self.net(x).flatten(start_dim=1)


_PREFIXES = ("backbone.net.", "backbone.", "net.", "module.", "model.", "encoder.")


def read_state_dict(path: str | Path, what: str = "Backbone weights") -> dict[str, torch.Tensor]:
    """The tensors of a local checkpoint: a plain state dict, ``{"state_dict": ...}``
    (Lightning) or ``{"model": ...}``; ``what`` names the file in the errors."""
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(
            f"{what} file not found: {path.resolve()}. Give a local file (a state dict, a "
            "torchvision ResNet or an ssl-core checkpoint); nothing is downloaded."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as err:
        raise BadInputError(f"{what} file {path} cannot be loaded: {err}") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BadInputError(f"{path} does not hold a state dict of tensors.")
    return state


def strip_prefixes(state: dict[str, torch.Tensor], own: dict) -> dict[str, torch.Tensor]:
    """``state`` without the common prefix (``backbone.net.``, ``module.``, ...) whose
    removal makes the most of its keys those of ``own`` (a module's state dict)."""
    for prefix in _PREFIXES:
        stripped = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
        if len(stripped) > len(set(state) & set(own)):
            state = stripped
    return state


def load_weights(
    module: nn.Module, weights: str | Path | dict[str, torch.Tensor], path: str | Path = ""
) -> None:
    """Load a local checkpoint (a path, or the state dict read from ``path``) into
    ``module``: common prefixes are stripped, ``fc.*`` is ignored unless ``module`` has
    one; any other missing or unexpected key is an error."""
    if not isinstance(weights, dict):
        path, weights = weights, read_state_dict(weights)
    own = module.state_dict()
    state = strip_prefixes(weights, own)
    state = {k: v for k, v in state.items() if not k.startswith("fc.") or k in own}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shape = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or shape:
        raise BadInputError(
            f"Weights in {path} do not fit the backbone: "
            f"{len(missing)} missing (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:3]}), "
            f"{len(shape)} with another shape (e.g. "
            f"{[(k, tuple(state[k].shape), tuple(own[k].shape)) for k in shape[:3]]})."
        )
    module.load_state_dict(state)
