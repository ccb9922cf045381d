"""Series backbones: output width, padding that never changes an embedding, masked
batch-norm statistics, and selection by class path as in YAML."""

from __future__ import annotations

import pytest
import torch
from jsonargparse import ArgumentParser
from torch import nn

from ssl_core.data.views import pad_to
from ssl_core.series import PatchTransformer1d, ResNet1d, pad_series
from ssl_core.series.backbones import MaskedBatchNorm1d


def pad_view(view: dict, length: int) -> dict:
    """A view padded with zeros (mask False) to ``length`` steps."""
    return {k: pad_to(v, (*v.shape[:-1], length)) for k, v in view.items()}


BACKBONES = {
    "resnet": lambda c: ResNet1d(c, widths=(8, 16), kernels=(7, 5, 3)),
    "resnet-downsample": lambda c: ResNet1d(c, widths=(8, 16), downsample=2),
    "transformer": lambda c: PatchTransformer1d(c, patch_size=4, dim=16, depth=2, heads=2),
}


def batch(lengths=(7, 29, 12), channels=3):
    g = torch.Generator().manual_seed(0)
    return pad_series([torch.randn(channels, n, generator=g) for n in lengths])


def train_a_little(net: nn.Module, view: dict) -> None:
    """Move batch-norm running statistics away from their initial values."""
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(view)
    net.eval()


@pytest.mark.parametrize("name", BACKBONES)
def test_output_width(name):
    net = BACKBONES[name](3)
    out = net(batch())
    assert out.shape == (3, net.num_features) and torch.isfinite(out).all()
    assert net(torch.randn(2, 3, 16)).shape == (2, net.num_features)  # plain tensor: all real


@pytest.mark.parametrize("name", BACKBONES)
def test_more_padding_leaves_embeddings_unchanged(name):
    torch.manual_seed(0)
    net = BACKBONES[name](3)
    view = batch()
    train_a_little(net, view)
    with torch.no_grad():
        ref = net(view)
        padded = net(pad_view(view, 45))
        alone = torch.cat(  # each series on its own, without padding
            [net(view["series"][i : i + 1, :, :n]) for i, n in enumerate((7, 29, 12))]
        )
        # Garbage in the padding is ignored too (it is zeroed first).
        noisy = dict(view, series=view["series"] + 100.0 * ~view["mask"][:, None, :])
        garbage = net(noisy)
    torch.testing.assert_close(padded, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(alone, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(garbage, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", BACKBONES)
def test_gradients_reach_every_parameter(name):
    net = BACKBONES[name](3)
    net(batch()).pow(2).sum().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing


def test_masked_batch_norm_counts_real_steps_only():
    norm = MaskedBatchNorm1d(1, momentum=1.0)
    view = pad_series([torch.full((1, 3), 2.0), torch.full((1, 1), 4.0)])  # mean 2.5
    norm.train()
    norm(view["series"], view["mask"])
    assert norm.running_mean.item() == pytest.approx(2.5)
    assert norm.running_var.item() == pytest.approx(0.75 * 4 / 3)  # unbiased


def test_selected_by_class_path():
    parser = ArgumentParser()
    parser.add_argument("--backbone", type=nn.Module)
    cfg = parser.parse_args(
        [
            "--backbone",
            '{"class_path": "ssl_core.series.ResNet1d", "init_args": {"in_channels": 12}}',
        ]
    )
    net = parser.instantiate_classes(cfg).backbone
    assert isinstance(net, ResNet1d) and net.num_features == 128
    assert net(batch(channels=12)).shape == (3, 128)


def test_sync_batchnorm_conversion_keeps_the_network_callable():
    """``--trainer.sync_batchnorm true`` (multi-GPU runs) converts every batch norm to
    torch's SyncBatchNorm, which takes no mask: the blocks call it without one."""
    net = ResNet1d(in_channels=2, widths=(8, 8), downsample=2).eval()
    view = {"series": torch.randn(3, 2, 64), "mask": torch.ones(3, 64, dtype=torch.bool)}
    expected = net(view)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(net).eval()
    assert not any(isinstance(m, MaskedBatchNorm1d) for m in synced.modules())
    torch.testing.assert_close(synced(view), expected)  # eval: the same running statistics
