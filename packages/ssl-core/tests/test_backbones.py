"""Backbones by name, any channel count, weights from local files only."""

from __future__ import annotations

import datetime

import pytest
import torch
import torchvision

from ssl_core.backbones import Backbone, load_weights
from ssl_core.errors import BadInputError


@pytest.mark.parametrize("name,width", [("resnet18", 512), ("resnet50", 2048)])
def test_resnet_widths(name, width):
    backbone = Backbone(name).eval()
    assert backbone.num_features == width
    with torch.no_grad():
        assert backbone(torch.randn(2, 3, 64, 64)).shape == (2, width)


@pytest.mark.parametrize("in_channels", [1, 4])
@pytest.mark.parametrize("cifar_stem", [False, True])
def test_resnet_channels(in_channels, cifar_stem):
    backbone = Backbone("resnet18", in_channels=in_channels, cifar_stem=cifar_stem).eval()
    assert backbone.net.conv1.in_channels == in_channels
    with torch.no_grad():
        assert backbone(torch.randn(2, in_channels, 32, 32)).shape == (2, 512)
        with pytest.raises(RuntimeError):
            backbone(torch.randn(2, 3 if in_channels != 3 else 1, 32, 32))


def test_cifar_stem_keeps_resolution():
    plain, cifar = Backbone("resnet18"), Backbone("resnet18", cifar_stem=True)
    assert plain.net.conv1.stride == (2, 2) and cifar.net.conv1.stride == (1, 1)
    assert isinstance(cifar.net.maxpool, torch.nn.Identity)


@pytest.mark.parametrize("name", ["timm:resnet10t", "resnet10t"])
@pytest.mark.parametrize("in_channels", [3, 4])
def test_timm_backbone(name, in_channels):
    backbone = Backbone(name, in_channels=in_channels).eval()
    assert backbone.num_features == 512
    with torch.no_grad():
        assert backbone(torch.randn(2, in_channels, 32, 32)).shape == (2, 512)


def _randomized(backbone: Backbone) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return {
        k: torch.randn_like(v.float()).to(v.dtype) for k, v in backbone.net.state_dict().items()
    }


def _assert_loaded(backbone: Backbone, state: dict[str, torch.Tensor]) -> None:
    own = backbone.net.state_dict()
    assert all(torch.equal(own[k], v) for k, v in state.items() if k in own)


def test_load_plain_state_dict(tmp_path):
    state = _randomized(Backbone("resnet18"))
    torch.save(state, tmp_path / "plain.pt")
    _assert_loaded(Backbone("resnet18", weights=str(tmp_path / "plain.pt")), state)


def test_load_lightning_checkpoint(tmp_path):
    state = _randomized(Backbone("resnet18"))
    checkpoint = {
        "epoch": 3,
        "state_dict": {
            **{f"backbone.net.{k}": v for k, v in state.items()},
            "projection_head.layers.0.weight": torch.zeros(4, 512),  # ignored: not backbone
        },
    }
    torch.save(checkpoint, tmp_path / "last.ckpt")
    _assert_loaded(Backbone("resnet18", weights=str(tmp_path / "last.ckpt")), state)


def test_load_torchvision_classifier_ignores_fc(tmp_path):
    net = torchvision.models.resnet18(weights=None)
    torch.save(net.state_dict(), tmp_path / "tv.pth")
    backbone = Backbone("resnet18")
    load_weights(backbone.net, tmp_path / "tv.pth")
    _assert_loaded(backbone, {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")})


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights file not found.*nothing.pt"):
        Backbone("resnet18", weights=str(tmp_path / "nothing.pt"))


def test_wrong_architecture_is_a_clear_error(tmp_path):
    torch.save(Backbone("resnet50").net.state_dict(), tmp_path / "r50.pt")
    with pytest.raises(ValueError, match="do not fit the backbone") as err:
        Backbone("resnet18", weights=str(tmp_path / "r50.pt"))
    assert "unexpected" in str(err.value) and "another shape" in str(err.value)


def test_missing_keys_and_shapes_are_errors(tmp_path):
    state = Backbone("resnet18").net.state_dict()
    del state["layer4.1.bn2.weight"]
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match=r"1 missing \(e.g. \['layer4.1.bn2.weight'\]\)"):
        Backbone("resnet18", weights=str(tmp_path / "partial.pt"))
    # Same keys, other input channels: a shape mismatch on conv1.
    torch.save(Backbone("resnet18", in_channels=4).net.state_dict(), tmp_path / "rgba.pt")
    with pytest.raises(ValueError, match=r"1 with another shape.*conv1.weight"):
        Backbone("resnet18", weights=str(tmp_path / "rgba.pt"))


def test_weights_are_loaded_with_weights_only(tmp_path):
    # A file that pickles an arbitrary object loads with weights_only=False only.
    state = Backbone("resnet18").net.state_dict()
    torch.save({"state_dict": state, "made": datetime.date(2020, 1, 1)}, tmp_path / "obj.ckpt")
    with pytest.raises(BadInputError, match="obj.ckpt cannot be loaded: Weights only load failed"):
        Backbone("resnet18", weights=str(tmp_path / "obj.ckpt"))
