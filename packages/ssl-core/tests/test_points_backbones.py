"""Set backbones: permutation and padding invariance, output width, weights (the Particle
Transformer's own pieces: ``test_points_particle_transformer.py``)."""

from __future__ import annotations

import pytest
import torch

from ssl_core.data.views import cat, pad_to
from ssl_core.points import ParticleFlowNetwork, ParticleTransformer, PlainParticleTransformer
from ssl_core.points.fake import fake_jets


def pad_points(view: dict, width: int) -> dict:
    """A view padded with zeros to ``width`` particles."""
    return {k: pad_to(v, (len(v), width, *v.shape[2:])) for k, v in view.items()}


PART = {"embed_dims": (32, 64, 32), "pair_embed_dims": (16, 16), "num_heads": 4}
KWARGS = {
    "plain": {"embed_dim": 32, "num_heads": 4, "num_layers": 2},
    "part": {**PART, "num_layers": 2, "num_cls_layers": 1},
    "pfn": {"phi_sizes": (32, 32), "f_sizes": (32, 24)},
}
BACKBONES = {
    "plain": PlainParticleTransformer,
    "part": ParticleTransformer,
    "pfn": ParticleFlowNetwork,
}


def build(name: str, **kwargs) -> torch.nn.Module:
    return BACKBONES[name](**KWARGS[name], **kwargs)


def batch(b: int = 4, p: int = 12, f: int = 7, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random features of jets of 12, 3, 7 and 1 particles, with the four-momenta
    ``vectors`` of fake jets (what the Particle Transformer's pair features need)."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.tensor([p, 3, 7, 1][:b])
    mask = torch.arange(p)[None, :] < counts[:, None]
    p4, _ = fake_jets(b, 3, seed=seed, max_particles=p)
    return {
        "points": torch.randn(b, p, f, generator=g) * mask[..., None],
        "mask": mask,
        "vectors": torch.from_numpy(p4).float() * mask[..., None],
    }


@pytest.mark.parametrize("name", BACKBONES)
def test_permuting_particles_or_padding_leaves_the_embedding(name):
    torch.manual_seed(0)
    net = build(name).eval()
    x = batch()
    with torch.no_grad():
        z = net(x)
        assert z.shape == (4, net.num_features)
        perm = torch.randperm(x["mask"].shape[1])
        shuffled = {k: v[:, perm] for k, v in x.items()}  # padding moves in between too
        torch.testing.assert_close(net(shuffled), z, rtol=1e-5, atol=1e-5)
        padded = pad_points(x, 30)
        padded["points"][:, 12:] = 5.0  # whatever padding holds is ignored
        padded["vectors"][:, 12:] = torch.tensor([3.0, 1.0, 2.0, 9.0])
        torch.testing.assert_close(net(padded), z, rtol=1e-5, atol=1e-5)
        alone = net({k: v[1:2, :3] for k, v in x.items()})  # batch composition too
        torch.testing.assert_close(alone, z[1:2], rtol=1e-5, atol=1e-5)
        changed = {k: v.clone() for k, v in x.items()}
        changed["points"][0, 0, 0] += 1.0  # but a real particle counts
        assert not torch.allclose(net(changed)[0], z[0], atol=1e-4)


@pytest.mark.parametrize("name", BACKBONES)
def test_backbone_trains_and_loads_its_weights(name, tmp_path):
    torch.manual_seed(0)
    net = build(name)
    views = [batch(seed=1), pad_points(batch(seed=2), 20)]
    both = cat(views)
    assert both["points"].shape == (8, 20, 7) and both["mask"].shape == (8, 20)
    z = net(both)
    z.pow(2).mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    path = tmp_path / "ssl.ckpt"
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in net.state_dict().items()}}, path)
    loaded = build(name, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(both), net.eval()(both))


def test_output_width_is_known_before_a_forward():
    assert PlainParticleTransformer(embed_dim=64, num_heads=4, num_layers=1).num_features == 64
    assert ParticleTransformer(embed_dims=(16, 48), num_layers=1).num_features == 48
    assert ParticleFlowNetwork(f_sizes=(50, 40)).num_features == 40


@pytest.mark.parametrize("name", BACKBONES)
def test_a_method_sizes_its_heads_by_the_set_backbone(name):
    from ssl_core.methods import SimCLR

    model = SimCLR(
        backbone=build(name),
        projection_dim=8,
        hidden_dim=16,
        online_knn=False,
    )
    out = model.embed(batch())
    assert out["features"].shape == (4, model.backbone.num_features)
    assert out["projection"].shape == (4, 8)
