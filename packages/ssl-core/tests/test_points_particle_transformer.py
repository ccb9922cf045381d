"""The Particle Transformer's own pieces: the pair features against Eq. 3 of the paper in
float64, their symmetries, the pair bias entering the attention, the four-momenta through
the collation, and a fit through the real command line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ssl_core.data.views import pad_to
from ssl_core.points import JetCollate, ParticleTransformer
from ssl_core.points.backbones import pair_features
from ssl_core.points.fake import fake_jets, write_fake_jet_files

SMALL = {"embed_dims": (32, 64, 32), "pair_embed_dims": (16, 16), "num_heads": 4}


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ln Delta, ln kT, ln z, ln m^2 of Eq. 3 of Qu, Li, Qian (2022) in float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)

    def pt_y_phi(p):
        return (
            np.hypot(p[..., 0], p[..., 1]),
            0.5 * np.log((p[..., 3] + p[..., 2]) / (p[..., 3] - p[..., 2])),
            np.arctan2(p[..., 1], p[..., 0]),
        )

    (pt_a, y_a, phi_a), (pt_b, y_b, phi_b) = pt_y_phi(a), pt_y_phi(b)
    dphi = (phi_a - phi_b + np.pi) % (2 * np.pi) - np.pi
    delta = np.sqrt((y_a - y_b) ** 2 + dphi**2)
    pt_min = np.minimum(pt_a, pt_b)
    s = a + b
    m2 = s[..., 3] ** 2 - s[..., 0] ** 2 - s[..., 1] ** 2 - s[..., 2] ** 2
    return np.log(np.stack([delta, pt_min * delta, pt_min / (pt_a + pt_b), m2], axis=-1))


def p4(pt, eta, phi, m) -> np.ndarray:
    pt, eta, phi, m = (np.asarray(v, np.float64) for v in (pt, eta, phi, m))
    pz = pt * np.sinh(eta)
    e = np.sqrt(m * m + pt * pt + pz * pz)
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, e], axis=-1)


def test_pair_features_are_eq3_of_the_paper():
    rng = np.random.default_rng(0)
    n = 200
    a = p4(rng.uniform(1, 300, n), rng.normal(0, 1, n), rng.uniform(-3, 3, n), rng.uniform(0, 2, n))
    b = p4(rng.uniform(1, 300, n), rng.normal(0, 1, n), rng.uniform(-3, 3, n), rng.uniform(0, 2, n))
    ours = pair_features(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    assert ours.dtype == torch.float32 and ours.shape == (n, 4)
    np.testing.assert_allclose(ours.numpy(), reference(a, b), atol=2e-3)


def test_pair_mass_of_a_collinear_hard_pair_survives_float32():
    """Two massless 500 GeV particles 1e-3 apart: m^2 = 0.25 GeV^2 is 1e-7 of E^2, lost by
    Eq. 3's difference in float32 but not by the form computed."""
    a, b = p4(500.0, 0.5, 0.0, 0.0), p4(500.0, 0.5, 1e-3, 0.0)
    ours = pair_features(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    assert ours[3].item() == pytest.approx(reference(a, b)[3], abs=1e-3)
    s = torch.from_numpy(a + b).float()
    naive = s[3] ** 2 - s[:3].square().sum()  # Eq. 3 as written, float32
    assert abs(math.log(max(naive.item(), 1e-8)) - reference(a, b)[3]) > 0.05


def test_pair_features_do_not_change_under_boosts_along_the_beam_and_rotations():
    rng = np.random.default_rng(1)
    a = p4(rng.uniform(1, 100, 50), rng.normal(0, 1, 50), rng.uniform(-3, 3, 50), 0.14)
    b = p4(rng.uniform(1, 100, 50), rng.normal(0, 1, 50), rng.uniform(-3, 3, 50), 0.14)

    def moved(p, rapidity=0.7, angle=1.1):
        c, s = np.cosh(rapidity), np.sinh(rapidity)
        x = p[..., 0] * np.cos(angle) - p[..., 1] * np.sin(angle)
        y = p[..., 0] * np.sin(angle) + p[..., 1] * np.cos(angle)
        return np.stack([x, y, c * p[..., 2] + s * p[..., 3], s * p[..., 2] + c * p[..., 3]], -1)

    f = pair_features(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    g = pair_features(torch.from_numpy(moved(a)).float(), torch.from_numpy(moved(b)).float())
    torch.testing.assert_close(g, f, atol=2e-3, rtol=1e-4)


def jets(b: int = 3, p: int = 10, seed: int = 0) -> dict[str, torch.Tensor]:
    """Fake jets of 10, 6 and 4 particles: random features, their four-momenta."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.arange(p)[None, :] < torch.tensor([10, 6, 4][:b])[:, None]
    vectors, _ = fake_jets(b, 3, seed=seed, max_particles=p)
    return {
        "points": torch.randn(b, p, 7, generator=g) * mask[..., None],
        "mask": mask,
        "vectors": torch.from_numpy(vectors).float() * mask[..., None],
    }


def test_the_pair_bias_enters_the_attention_and_changes_the_embedding():
    """Zeroing the pair embedding's output gives exactly the network without interaction
    features (same weights otherwise); the pair features of other jets another output."""
    torch.manual_seed(0)
    net = ParticleTransformer(**SMALL, num_layers=2, num_cls_layers=1).eval()
    plain = ParticleTransformer(
        **{**SMALL, "pair_embed_dims": None}, num_layers=2, num_cls_layers=1
    )
    plain.load_state_dict(
        {k: v for k, v in net.state_dict().items() if not k.startswith("pair_embed.")}
    )
    plain.eval()
    x = jets()
    with torch.no_grad():
        z = net(x)
        swapped = {**x, "vectors": x["vectors"].roll(1, dims=0)}
        swapped["vectors"] = swapped["vectors"] * x["mask"][..., None]
        other = net(swapped)  # the same particles' features, another jet's kinematics
        assert not torch.allclose(other, z, atol=1e-3)
        assert not torch.allclose(plain(x), z, atol=1e-3)
        last = net.pair_embed.net[-1]  # the BatchNorm of the per-head bias
        last.weight.zero_()
        last.bias.zero_()
        torch.testing.assert_close(net(x), plain(x))
        torch.testing.assert_close(net(swapped), net(x))  # no bias: kinematics unseen


def test_in_training_too_order_and_padding_do_not_matter():
    """BatchNorm of the pair embedding sees the real pairs only."""
    torch.manual_seed(0)
    net = ParticleTransformer(**SMALL, num_layers=1, num_cls_layers=1, dropout=0.0).train()
    x = jets()
    z = net(x)
    perm = torch.randperm(10)
    torch.testing.assert_close(net({k: v[:, perm] for k, v in x.items()}), z)
    padded = {k: pad_to(v, (3, 16, *v.shape[2:])) for k, v in x.items()}
    padded["vectors"][:, 10:] = torch.tensor([5.0, 1.0, 2.0, 30.0])
    torch.testing.assert_close(net(padded), z)


def test_a_view_without_four_momenta_is_refused_in_one_line():
    net = ParticleTransformer(**SMALL, num_layers=1, num_cls_layers=1)
    x = jets()
    with pytest.raises(ValueError, match="vectors: true"):
        net({"points": x["points"], "mask": x["mask"]})
    ParticleTransformer(**{**SMALL, "pair_embed_dims": None}, num_layers=1)(x)  # plain ParT: fine


def test_collation_adds_the_four_momenta_on_request():
    top, counts = fake_jets(5, 3, seed=3, max_particles=30)
    items = [
        {"constituents": top[b, : counts[b]], "label": 1, "index": b, "seed": b} for b in range(5)
    ]
    view = JetCollate(vectors=True)(items)["image"]
    assert set(view) == {"points", "mask", "vectors"} and view["vectors"].shape[2] == 4
    assert set(JetCollate()(items)["image"]) == {"points", "mask"}
    for b in range(5):
        n = int(counts[b])
        np.testing.assert_allclose(view["vectors"][b, :n].numpy(), top[b, :n], rtol=1e-4, atol=1e-3)
        assert (view["vectors"][b, n:] == 0).all()


def test_fit_with_the_particle_transformer_through_the_cli(tmp_path):
    from ssl_core.cli import cli

    root = write_fake_jet_files(tmp_path / "jets", per_class=8)
    config = tmp_path / "simclr.yaml"
    config.write_text(
        f"""
seed_everything: 0
trainer: {{accelerator: cpu, fast_dev_run: 1, logger: false, enable_checkpointing: false,
  enable_progress_bar: false, default_root_dir: {tmp_path}}}
model:
  class_path: ssl_core.methods.SimCLR
  init_args:
    backbone:
      class_path: ssl_core.points.ParticleTransformer
      init_args: {{embed_dims: [16, 16], pair_embed_dims: [8], num_heads: 2, num_layers: 1,
        num_cls_layers: 1}}
    projection_dim: 8
    hidden_dim: 16
    knn_k: 3
data:
  class_path: ssl_core.data.ClassificationDataModule
  init_args:
    source: ssl_core.points.JetFiles
    modality: {{class_path: ssl_core.points.Points, init_args: {{max_particles: 16,
      vectors: true}}}}
    root: {root}
    train_on: all
    batch_size: 4
    eval_batch_size: 16
    num_workers: 0
"""
    )
    run = cli(["fit", "--config", str(config)])
    assert math.isfinite(run.trainer.callback_metrics["train/loss_step"].item())
