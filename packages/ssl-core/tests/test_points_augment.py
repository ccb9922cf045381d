"""JetCLR augmentations: what physics says each keeps, and per-jet seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_core.data.seeds import SampleRandom
from ssl_core.points import JetCLRTransform, JetCollate, JetWeakStrongTransform
from ssl_core.points.augment import (
    CollinearSplit,
    Dropout,
    JetEvalTransform,
    Rotate,
    SmearPt,
    SoftSmear,
    Translate,
)
from ssl_core.points.fake import fake_jets
from ssl_core.points.features import Jets


@pytest.fixture(scope="module")
def jets() -> Jets:
    """40 fake jets (1 and 3 prongs), read from padded arrays of 100 slots."""
    top, n_top = fake_jets(20, 3, seed=1, max_particles=100)
    qcd, n_qcd = fake_jets(20, 1, seed=2, max_particles=100)
    p4 = np.concatenate([top, qcd])
    counts = np.concatenate([n_top, n_qcd])
    return Jets.from_list([x[:n] for x, n in zip(p4, counts, strict=True)])


def rand(n: int, offset: int = 0) -> SampleRandom:
    return SampleRandom(np.arange(n) + offset)


def pt_mass(jets: Jets) -> tuple[np.ndarray, np.ndarray]:
    """Every jet's pT and mass ``(B,)`` from its particles."""
    j = jets.sum(jets.p4())
    return np.hypot(j[:, 0], j[:, 1]), np.sqrt(
        np.clip(j[:, 3] ** 2 - (j[:, :3] ** 2).sum(1), 0, None)
    )


def view_of(transform, p4, mask, seeds, v=0):
    """View ``v`` of every jet of padded ``p4`` as a list of ``(n_i, F)`` arrays (padding
    cut off)."""
    out = transform([x[m] for x, m in zip(p4, mask, strict=True)], seeds)
    out = out if isinstance(out, list) else [out]
    x, m = out[v]["points"].numpy(), out[v]["mask"].numpy()
    return [x[b][m[b]] for b in range(len(x))]


@pytest.mark.parametrize("prob", [0.3, 1.0])
def test_collinear_split_keeps_the_jet_four_momentum(jets, prob):
    out = CollinearSplit(prob)(jets, rand(len(jets.counts)))
    before, after = jets.sum(jets.p4()), out.sum(out.p4())
    np.testing.assert_allclose(after, before, rtol=2e-6, atol=1e-4 * before[:, 3:].max())
    added = out.counts - jets.counts
    assert (added > 0).all() and (out.counts <= 2 * jets.counts).all()
    if prob == 1.0:
        assert (added == jets.counts).all()
    # every jet's particles come first, in their order, then its new particles, each
    # continuing the direction of one of them
    for b in (0, 25):
        old, new = jets.index[1] == b, out.index[1] == b
        n = jets.counts[b]
        np.testing.assert_array_equal(out.deta[new][:n], jets.deta[old])
        assert (out.pt[new][:n] <= jets.pt[old]).all()
        directions = set(zip(jets.deta[old].tolist(), jets.dphi[old].tolist(), strict=True))
        products = zip(out.deta[new][n:].tolist(), out.dphi[new][n:].tolist(), strict=True)
        assert all(d in directions for d in products)
    assert (out.pt > 0).all()
    # the index handed on is the one a fresh Jets computes
    fresh = Jets(out.pt, out.deta, out.dphi, out.m, out.counts, out.axis)
    for a, b in zip(out.index, fresh.index, strict=True):
        np.testing.assert_array_equal(a, b)


def test_collinear_split_respects_the_cap(jets):
    out = CollinearSplit(1.0, max_particles=60)(jets, rand(len(jets.counts)))
    assert (out.counts == np.maximum(jets.counts, np.minimum(2 * jets.counts, 60))).all()


def test_translation_keeps_pt_and_mass(jets):
    pt0, m0 = pt_mass(jets)
    for width in (0.25, 1.0):
        out = Translate(width)(jets, rand(len(pt0)))
        pt, m = pt_mass(out)
        np.testing.assert_allclose(pt, pt0, rtol=1e-6)
        np.testing.assert_allclose(m, m0, rtol=1e-4)  # exact but for float32 eta
        assert np.abs(out.deta - jets.deta).max() > 0.01  # it did move the jets
        assert np.abs(out.dphi - jets.dphi).max() > 0.01


def test_small_rotations_keep_pt_and_mass_within_one_percent(jets):
    """Stated tolerance: |angle| <= 0.1 keeps jet pT and mass within 1% (on the shared
    top/QCD jets the largest changes were 0.55% and 0.82%); any angle (JetCLR) keeps
    each particle's distance to the axis exactly."""
    pt0, m0 = pt_mass(jets)
    out = Rotate(0.1)(jets, rand(len(pt0)))
    pt, m = pt_mass(out)
    np.testing.assert_allclose(pt, pt0, rtol=0.01)
    np.testing.assert_allclose(m, m0, rtol=0.01)
    full = Rotate()(jets, rand(len(pt0)))
    np.testing.assert_allclose(
        np.hypot(full.deta, full.dphi), np.hypot(jets.deta, jets.dphi), atol=1e-5
    )
    assert not np.allclose(full.deta, jets.deta, atol=1e-3)


def test_soft_smearing_moves_soft_particles_most(jets):
    out = SoftSmear(strength=0.1, pt_clip=0.1)(jets, rand(len(jets.counts)))
    moved = np.hypot(out.deta - jets.deta, out.dphi - jets.dphi)
    hard, soft = jets.pt > 20, jets.pt < 1
    assert moved[hard].max() < 0.03 and moved[soft].mean() > 0.05
    np.testing.assert_array_equal(out.pt, jets.pt)


def test_pt_smearing_and_dropout(jets):
    smeared = SmearPt(0.1)(jets, rand(len(jets.counts)))
    assert 0.07 < np.log(smeared.pt / jets.pt).std() < 0.13
    np.testing.assert_array_equal(smeared.deta, jets.deta)
    dropped = Dropout(0.5)(jets, rand(len(jets.counts)))
    assert (dropped.counts >= 1).all() and (dropped.counts < jets.counts).all()
    starts, new_starts = jets.index[0], dropped.index[0]
    np.testing.assert_array_equal(dropped.pt[new_starts], jets.pt[starts])  # leading kept
    for b in (0, 30):  # the rest keep their order
        kept = dropped.pt[dropped.index[1] == b]
        assert np.isin(kept, jets.pt[jets.index[1] == b]).all() and (np.diff(kept) <= 0).all()


@pytest.mark.parametrize(
    "transform",
    [JetCLRTransform(), JetWeakStrongTransform(), JetCLRTransform(pt_smear=0.1, dropout=0.2)],
    ids=["jetclr", "weak-strong", "jetclr-all"],
)
def test_a_jets_views_depend_on_its_seed_alone(jets, transform):
    p4, mask = jets.pad(jets.p4().astype(np.float32))
    seeds = np.arange(100, 100 + len(p4))
    views = view_of(transform, p4, mask, seeds, v=1)
    # the same jets in another order, in smaller batches, with more padding
    order = np.random.default_rng(0).permutation(len(p4))
    width = p4.shape[1]
    wide = np.zeros((len(p4), width + 50, 4), np.float32)
    wide[:, :width] = p4
    wide_mask = np.zeros((len(p4), width + 50), bool)
    wide_mask[:, :width] = mask
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
    p4, _ = jets.pad(jets.p4().astype(np.float32))
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
    assert plain["mask"].sum().item() == sum(len(item["constituents"]) for item in items)


def test_features_follow_a_permutation_of_the_particles(jets):
    """Without augmentation, shuffling a jet's particles shuffles its features the same
    way (what makes a permutation-invariant backbone's embedding invariant)."""
    p4, mask = jets.pad(jets.p4().astype(np.float32))
    lists = [x[m] for x, m in zip(p4, mask, strict=True)]
    perms = [np.random.default_rng(b).permutation(len(x)) for b, x in enumerate(lists)]
    seeds = np.arange(len(lists))
    plain = JetEvalTransform()(lists, seeds)
    shuffled = JetEvalTransform()([x[p] for x, p in zip(lists, perms, strict=True)], seeds)
    for b, perm in enumerate(perms):
        n = len(perm)
        np.testing.assert_allclose(
            shuffled["points"][b, :n].numpy(), plain["points"][b, :n].numpy()[perm], atol=2e-5
        )
