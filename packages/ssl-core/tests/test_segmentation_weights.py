"""Encoder weights of segmentation networks from local files: an ssl-core SimCLR
checkpoint into a U-Net's ResNet encoder (the route from the contrastive half of the
project to segmentation), a torchvision state dict, channel adaptation, clear errors."""

from __future__ import annotations

import pytest
import torch
import torchvision

from ssl_core.backbones import Backbone
from ssl_core.methods import SimCLR
from ssl_core.segmentation import EncoderWeightsError, SupervisedSegmentation, load_encoder_weights
from ssl_core.segmentation.base import create_network
from ssl_core.segmentation.weights import adapt_first_conv

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _simclr_checkpoint(path, in_channels: int = 3, name: str = "resnet18"):
    """A Lightning-style checkpoint of an ssl-core SimCLR (what ``train fit`` saves)."""
    torch.manual_seed(1)
    model = SimCLR(
        projection_dim=8, hidden_dim=16, backbone=Backbone(name, in_channels=in_channels)
    )
    with torch.no_grad():  # not the init a fresh encoder would get by chance
        for p in model.backbone.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    torch.save({"state_dict": model.state_dict(), "epoch": 3, "global_step": 10}, path)
    return model


@pytest.mark.parametrize("in_channels", [1, 4])
def test_simclr_checkpoint_loads_into_a_unet_encoder(tmp_path, in_channels):
    simclr = _simclr_checkpoint(tmp_path / "simclr.ckpt", in_channels)
    task = SupervisedSegmentation(
        arch="unet",
        encoder_name="resnet18",
        num_classes=2,
        in_channels=in_channels,
        encoder_weights=str(tmp_path / "simclr.ckpt"),
        model_kwargs={"decoder_channels": (16, 8, 8, 8, 8)},
    )
    ours = task.network.encoder.state_dict()
    theirs = simclr.backbone.net.state_dict()
    assert set(ours) == set(theirs)  # fc is an Identity in the backbone: no classifier
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key
    net = simclr.backbone.net  # the encoder computes what SimCLR's backbone did
    simclr.eval(), task.eval()
    x = torch.randn(1, in_channels, 64, 64)
    with torch.no_grad():
        h = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
            h = layer(h)
        assert torch.allclose(task.network.encoder(x)[-1], h, atol=1e-5)


def test_three_channel_checkpoint_is_adapted_to_other_channel_counts(tmp_path):
    simclr = _simclr_checkpoint(tmp_path / "rgb.ckpt", in_channels=3)
    rgb = simclr.backbone.net.conv1.weight.detach()
    for channels in (1, 4):
        encoder = create_network("unet", "resnet18", channels, 2).encoder
        done = load_encoder_weights(encoder, tmp_path / "rgb.ckpt")
        assert done["adapted"] == ["conv1.weight"]
        assert torch.allclose(encoder.conv1.weight, adapt_first_conv(rgb, channels))
        assert torch.equal(
            encoder.layer1[0].conv1.weight, simclr.backbone.net.layer1[0].conv1.weight
        )
    assert torch.allclose(adapt_first_conv(rgb, 1), rgb.sum(1, keepdim=True))
    four = adapt_first_conv(rgb, 4)
    assert torch.allclose(four[:, 3], rgb[:, 0] * 3 / 4)


def test_torchvision_state_dict_and_timm_encoder(tmp_path):
    net = torchvision.models.resnet18(weights=None)
    torch.save(net.state_dict(), tmp_path / "tv.pth")  # with its fc: left out
    encoder = create_network("unet", "resnet18", 3, 2).encoder
    done = load_encoder_weights(encoder, tmp_path / "tv.pth")
    assert done["left_out"] == ["fc.bias", "fc.weight"]
    assert torch.equal(encoder.layer4[1].conv2.weight, net.layer4[1].conv2.weight)
    timm_encoder = create_network("unet", "tu-resnet18", 3, 2).encoder  # keys under model.
    load_encoder_weights(timm_encoder, tmp_path / "tv.pth")
    assert torch.equal(timm_encoder.model.layer4[1].conv2.weight, net.layer4[1].conv2.weight)


def test_mismatching_keys_give_a_clear_error(tmp_path):
    _simclr_checkpoint(tmp_path / "r18.ckpt")
    encoder = create_network("unet", "resnet34", 3, 2).encoder  # more blocks than resnet18
    with pytest.raises(EncoderWeightsError, match=r"missing: \['layer1\.2\.") as err:
        load_encoder_weights(encoder, tmp_path / "r18.ckpt")
    assert "do not fit the encoder" in str(err.value)
    torch.save({"state_dict": {"head.weight": torch.zeros(2, 2)}}, tmp_path / "other.ckpt")
    with pytest.raises(EncoderWeightsError, match="missing"):
        load_encoder_weights(encoder, tmp_path / "other.ckpt")
    cifar = SimCLR(projection_dim=8, hidden_dim=16, backbone=Backbone("resnet18", cifar_stem=True))
    torch.save({"state_dict": cifar.state_dict()}, tmp_path / "cifar.ckpt")
    small = create_network("unet", "resnet18", 3, 2).encoder
    with pytest.raises(EncoderWeightsError, match="another shape"):
        load_encoder_weights(small, tmp_path / "cifar.ckpt")
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_encoder_weights(small, tmp_path / "absent.ckpt")
