"""JetCLR augmentations: what physics says each keeps, and per-jet seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_core.points import (
    CollinearSplit,
    Dropout,
    JetCLRTransform,
    JetCollate,
    JetEvalTransform,
    JetWeakStrongTransform,
    Rotate,
    SmearPt,
    SoftSmear,
    Translate,
    pad_jets,
)
from ssl_core.points.fake import fake_jets
from ssl_core.points.features import Jets
from ssl_core.points.jets import jet_p4, jet_pt_mass
from ssl_core.points.random import SampleRandom


@pytest.fixture(scope="module")
def jets() -> Jets:
    """40 fake jets (1 and 3 prongs), padded to 100 slots."""
    top, n_top = fake_jets(20, 3, seed=1, max_particles=100)
    qcd, n_qcd = fake_jets(20, 1, seed=2, max_particles=100)
    p4 = np.concatenate([top, qcd])
    counts = np.concatenate([n_top, n_qcd])
    return Jets.from_p4(p4, np.arange(100)[None, :] < counts[:, None])


def rand(n: int, offset: int = 0) -> SampleRandom:
    return SampleRandom(np.arange(n) + offset)


def view_of(transform, p4, mask, seeds, v=0):
    """View ``v`` of every jet as a list of ``(n_i, F)`` arrays (padding cut off)."""
    out = transform(p4, mask, seeds)
    out = out if isinstance(out, list) else [out]
    x, m = out[v]["points"].numpy(), out[v]["mask"].numpy()
    return [x[b][m[b]] for b in range(len(x))]


@pytest.mark.parametrize("prob", [0.3, 1.0])
def test_collinear_split_keeps_the_jet_four_momentum(jets, prob):
    out = CollinearSplit(prob)(jets, rand(len(jets.pt)))
    before, after = jet_p4(jets.p4(), jets.mask), jet_p4(out.p4(), out.mask)
    np.testing.assert_allclose(after, before, rtol=2e-6, atol=1e-4 * before[:, 3:].max())
    added = out.counts - jets.counts
    assert (added > 0).all() and (out.counts <= 2 * jets.counts).all()
    if prob == 1.0:
        assert (added == jets.counts).all()
    # the new particles continue the old ones' directions
    b = 0
    new = slice(jets.counts[b], out.counts[b])
    directions = {(round(e, 5), round(p, 5)) for e, p in zip(jets.eta[b], jets.phi[b], strict=True)}
    assert all(
        (round(e, 5), round(p, 5)) in directions
        for e, p in zip(out.eta[b, new], out.phi[b, new], strict=True)
    )
    assert (out.pt[out.mask] > 0).all() and (out.pt[~out.mask] == 0).all()


def test_collinear_split_respects_the_cap(jets):
    out = CollinearSplit(1.0, max_particles=60)(jets, rand(len(jets.pt)))
    assert out.counts.max() <= max(60, jets.counts.max())
    assert (out.counts == np.maximum(jets.counts, np.minimum(2 * jets.counts, 60))).all()


def test_translation_keeps_pt_and_mass(jets):
    pt0, m0 = jet_pt_mass(jets.p4(), jets.mask)
    for width in (0.25, 1.0):
        out = Translate(width)(jets, rand(len(pt0)))
        pt, m = jet_pt_mass(out.p4(), out.mask)
        np.testing.assert_allclose(pt, pt0, rtol=1e-6)
        np.testing.assert_allclose(m, m0, rtol=1e-4)  # exact but for float32 eta
        deta0, _ = jets.deta_dphi()
        deta, _ = out.deta_dphi()
        assert np.abs(deta - deta0)[jets.mask].max() > 0.01  # it did move the jets


def test_small_rotations_keep_pt_and_mass_within_one_percent(jets):
    """Stated tolerance: |angle| <= 0.1 keeps jet pT and mass within 1% (on the shared
    top/QCD jets the largest changes were 0.55% and 0.82%); any angle (JetCLR) keeps
    each particle's distance to the axis exactly."""
    pt0, m0 = jet_pt_mass(jets.p4(), jets.mask)
    out = Rotate(0.1)(jets, rand(len(pt0)))
    pt, m = jet_pt_mass(out.p4(), out.mask)
    np.testing.assert_allclose(pt, pt0, rtol=0.01)
    np.testing.assert_allclose(m, m0, rtol=0.01)
    full = Rotate()(jets, rand(len(pt0)))
    r0 = np.hypot(*jets.deta_dphi())
    np.testing.assert_allclose(np.hypot(*full.deta_dphi())[jets.mask], r0[jets.mask], atol=1e-5)
    assert not np.allclose(full.eta, jets.eta, atol=1e-3)


def test_soft_smearing_moves_soft_particles_most(jets):
    out = SoftSmear(strength=0.1, pt_clip=0.1)(jets, rand(len(jets.pt)))
    moved = np.hypot(out.eta - jets.eta, (out.phi - jets.phi + np.pi) % (2 * np.pi) - np.pi)
    hard, soft = jets.mask & (jets.pt > 20), jets.mask & (jets.pt < 1)
    assert moved[hard].max() < 0.03 and moved[soft].mean() > 0.05
    np.testing.assert_array_equal(out.pt, jets.pt)


def test_pt_smearing_and_dropout(jets):
    smeared = SmearPt(0.1)(jets, rand(len(jets.pt)))
    ratio = smeared.pt[jets.mask] / jets.pt[jets.mask]
    assert 0.07 < np.log(ratio).std() < 0.13
    np.testing.assert_array_equal(smeared.eta, jets.eta)
    dropped = Dropout(0.5)(jets, rand(len(jets.pt)))
    assert (dropped.counts >= 1).all() and (dropped.counts < jets.counts).all()
    np.testing.assert_array_equal(dropped.pt[:, 0], jets.pt[:, 0])  # leading particle kept
    # real particles first, in their order
    assert (np.diff(dropped.mask.astype(int), axis=1) <= 0).all()
    assert (np.diff(np.where(dropped.mask, dropped.pt, -1), axis=1)[dropped.mask[:, 1:]] <= 0).all()


@pytest.mark.parametrize(
    "transform",
    [JetCLRTransform(), JetWeakStrongTransform(), JetCLRTransform(pt_smear=0.1, dropout=0.2)],
    ids=["jetclr", "weak-strong", "jetclr-all"],
)
def test_a_jets_views_depend_on_its_seed_alone(jets, transform):
    p4, mask = jets.p4().astype(np.float32), jets.mask
    seeds = np.arange(100, 100 + len(p4))
    views = view_of(transform, p4, mask, seeds, v=1)
    # the same jets in another order, in smaller batches, with more padding
    order = np.random.default_rng(0).permutation(len(p4))
    wide = np.zeros((len(p4), 150, 4), np.float32)
    wide[:, :100] = p4
    wide_mask = np.zeros((len(p4), 150), bool)
    wide_mask[:, :100] = mask
    for part in np.array_split(order, 3):
        again = view_of(transform, wide[part], wide_mask[part], seeds[part], v=1)
        for b, got in zip(part, again, strict=True):
            np.testing.assert_array_equal(got, views[b])
    other = view_of(transform, p4, mask, seeds + 1, v=1)
    assert not any(
        a.shape == b.shape and np.allclose(a, b) for a, b in zip(views, other, strict=True)
    )
    first = view_of(transform, p4, mask, seeds, v=0)
    assert not any(
        a.shape == b.shape and np.allclose(a, b) for a, b in zip(views, first, strict=True)
    )


def test_views_through_the_collation(jets):
    p4 = jets.p4().astype(np.float32)
    items = [
        {"constituents": p4[b, : jets.counts[b]], "label": b % 2, "index": b, "seed": b}
        for b in range(8)
    ]
    batch = JetCollate(JetCLRTransform(split_prob=1.0), max_particles=70)(items)
    assert len(batch["views"]) == 2
    for view in batch["views"]:
        assert view["points"].shape[1] <= 70 and view["points"].dtype == torch.float32
        assert torch.isfinite(view["points"]).all()
        counts = view["mask"].sum(1)
        assert (counts == torch.clamp(2 * torch.as_tensor(jets.counts[:8]), max=70)).all()
    plain = JetCollate(JetEvalTransform())(items)["image"]
    again = JetCollate()(items)["image"]
    torch.testing.assert_close(plain["points"], again["points"])
    p4_, mask_ = pad_jets([item["constituents"] for item in items])
    assert plain["mask"].sum().item() == mask_.sum()
