"""Jets on disk: ids, bad jets, the test split, collation and normalization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_core.data import IndexedDataset
from ssl_core.data.modality import mean_std
from ssl_core.data.views import map_views
from ssl_core.points import JetCollate, JetFiles, Points
from ssl_core.points.fake import write_fake_jet_files
from ssl_core.points.features import Jets, jet_feature_statistics, particle_features
from ssl_core.points.jets import BadJetError, JetArrays, jet_pt_mass, jet_test_split


def jet_set(data: JetArrays, rows=None, on_bad_file: str = "error") -> IndexedDataset:
    """The jets at ``rows`` (default: all) as the datamodule's dataset holds them."""
    rows = range(len(data)) if rows is None else rows
    samples = [(data.ids[i], int(data.targets[i])) for i in rows]
    return IndexedDataset(data, samples, "constituents", on_bad_file)


def pad_p4(jets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Four-momenta ``[(n_i, 4)]`` padded to ``(B, P, 4)`` with their mask."""
    p = max(len(j) for j in jets)
    p4, mask = np.zeros((len(jets), p, 4)), np.zeros((len(jets), p), bool)
    for b, jet in enumerate(jets):
        p4[b, : len(jet)], mask[b, : len(jet)] = jet, True
    return p4, mask


SHARED = Path(__file__).resolve().parents[3] / "../shared/data/jets-pythia8-top-qcd"


@pytest.fixture
def jet_root(tmp_path) -> Path:
    return write_fake_jet_files(tmp_path / "jets", per_class=30)


def test_source_lists_ids_targets_and_reads_trimmed_jets(jet_root):
    source = JetArrays(jet_root)
    assert len(source) == 60
    assert source.ids[17] == "top.npz:17" and source.ids[30] == "qcd.npz:0"
    assert source.targets.tolist() == [1] * 30 + [0] * 30
    assert source.index("qcd.npz:4") == 34
    with np.load(jet_root / "qcd.npz") as data:
        n = int(data["n_constituents"][4])
        expected = data["constituents"][4, :n]
    np.testing.assert_array_equal(source.read(34), expected)


def test_bad_jets_are_named_in_one_line(jet_root):
    with np.load(jet_root / "qcd.npz") as data:
        arrays = dict(data)
    arrays["constituents"][3, 1, 2] = np.nan
    arrays["constituents"][5, 0, 3] = np.inf
    arrays["n_constituents"][7] = 0
    np.savez(jet_root / "qcd.npz", **arrays)
    source = JetArrays(jet_root)
    bad = source.bad_samples()
    assert sorted(bad) == ["qcd.npz:3", "qcd.npz:5", "qcd.npz:7"]
    assert "empty" in bad["qcd.npz:7"] and "NaN or inf" in bad["qcd.npz:3"]
    with pytest.raises(BadJetError, match=r"^qcd.npz:3: NaN or inf in constituent\(s\) \[1\]"):
        source.read(source.index("qcd.npz:3"))
    dataset = jet_set(source, on_bad_file="skip")
    batch = JetCollate()([dataset[i] for i in range(30, 40)])
    assert len(batch["bad_files"]) == 3 and batch["image"]["points"].shape[0] == 7
    assert all("\n" not in line for line in batch["bad_files"])
    with pytest.raises(BadJetError, match="on_bad_file skip"):
        jet_set(source)[37]


def test_test_split_is_fixed_stratified_and_disjoint(jet_root):
    source = JetArrays(jet_root)
    test = jet_test_split(source, 0.2, seed=0)
    assert len(test) == 12 and test < set(source.ids)
    assert sum(i.startswith("top") for i in test) == 6  # both classes, 20% each
    assert jet_test_split(source, 0.2, seed=0) == test
    reordered = JetArrays(jet_root, files=("qcd.npz", "top.npz"))
    assert jet_test_split(reordered, 0.2, seed=0) == test
    assert jet_test_split(source, 0.2, seed=1) != test
    train = JetFiles().list_samples(jet_root, "train")
    assert len(train) == 48 and not {i for i, _ in train} & test


def test_collate_pads_to_the_longest_jet_or_a_fixed_cap(jet_root):
    source = JetArrays(jet_root)
    dataset = jet_set(source, [0, 31, 5])
    items = [dataset[i] for i in range(3)]
    counts = [len(item["constituents"]) for item in items]
    batch = JetCollate()(items)
    view = batch["image"]
    assert view["points"].shape == (3, max(counts), 7) and view["mask"].dtype == torch.bool
    assert view["mask"].sum(1).tolist() == counts
    assert (view["points"][~view["mask"]] == 0).all()
    assert batch["label"].tolist() == [1, 0, 1] and batch["index"].tolist() == [0, 1, 2]
    capped = JetCollate(max_particles=10, pad_to_max=True)(items)["image"]
    assert capped["points"].shape == (3, 10, 7)
    assert capped["mask"].sum(1).tolist() == [min(c, 10) for c in counts]
    wide = JetCollate(max_particles=64, pad_to_max=True)(items)["image"]
    assert wide["points"].shape == (3, 64, 7)
    torch.testing.assert_close(wide["points"][:, : max(counts)], view["points"])
    jets = Jets.from_list([source.read(i) for i in (0, 31)])
    with pytest.raises(ValueError, match="does not fit a width of 3"):  # not into the next row
        jets.pad(particle_features(jets), width=3)


def test_features_match_a_per_particle_reference(jet_root):
    source = JetArrays(jet_root)
    jets_list = [source.read(i) for i in (0, 40)]
    jets = Jets.from_list(jets_list)
    features, mask = jets.pad(particle_features(jets))
    for b, jet in enumerate(jets_list):
        total = jet.astype(np.float64).sum(0)
        pt_j = np.hypot(total[0], total[1])
        eta_j, phi_j = np.arcsinh(total[2] / pt_j), np.arctan2(total[1], total[0])
        for k, (px, py, pz, e) in enumerate(jet.astype(np.float64)):
            pt = np.hypot(px, py)
            deta = np.arcsinh(pz / pt) - eta_j
            dphi = (np.arctan2(py, px) - phi_j + np.pi) % (2 * np.pi) - np.pi
            ref = [deta, dphi, np.log(pt), np.log(e), np.log(pt / pt_j), np.log(e / total[3])]
            ref.append(np.hypot(deta, dphi))
            np.testing.assert_allclose(features[b, k], ref, rtol=1e-4, atol=2e-5)
    assert (features[~mask] == 0).all()


def test_normalization_from_training_statistics(jet_root):
    source = JetArrays(jet_root)
    jets = Jets.from_list([source.read(i) for i in range(len(source))])
    features, mask = jets.pad(particle_features(jets))
    mean, std = (torch.from_numpy(a).float() for a in mean_std([features[mask]]))
    batch = {"views": [{"points": torch.from_numpy(features), "mask": torch.from_numpy(mask)}]}
    batch["label"] = torch.zeros(len(source))
    out = map_views(batch, lambda view: Points().normalize(view, mean, std))
    x = out["views"][0]["points"].numpy()
    np.testing.assert_allclose(x[mask].mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(x[mask].std(0), 1, atol=1e-3)
    assert (x[~mask] == 0).all() and out["label"] is batch["label"]
    # the same, packed, in batches of two jets, from four-momenta
    mean2, std2 = jet_feature_statistics([source.read(i) for i in range(len(source))], batch=2)
    np.testing.assert_allclose(mean2, mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(std2, std, rtol=1e-4)


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared jets not found at {SHARED}")
def test_shared_jets_read_clean_and_match_their_jet_arrays():
    source = JetArrays(SHARED)
    assert len(source) == 20000 and source.bad_samples() == {}
    rows = [0, 17, 9999, 10000, 19999]
    p4, mask = pad_p4([source.read(i) for i in rows])
    pt, mass = jet_pt_mass(p4, mask)
    jets = np.concatenate([np.load(SHARED / f)["jet"] for f in ("top.npz", "qcd.npz")])[rows]
    np.testing.assert_allclose(pt, jets[:, 0], rtol=1e-4)
    np.testing.assert_allclose(mass, jets[:, 3], rtol=1e-3)
    train = [i for i, _ in JetFiles().list_samples(SHARED, "train")]
    mean, std = jet_feature_statistics([source.read(source.index(i)) for i in train[:4000]])
    assert np.isfinite(mean).all() and (std > 0).all()
    assert abs(mean[0]) < 0.02 and abs(mean[1]) < 0.02  # centred on the axis
