"""evaluate on synthetic embeddings with known answers, and its refusals of bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ssl_core.embeddings import EmbeddingsError, load_embeddings, merge_shards, write_split
from ssl_core.evaluate import evaluate, main

KEYS = ("knn_top1", "knn_top5", "linear_top1", "kmeans_nmi", "kmeans_ari")


def clusters(n_per_class: int, classes: int, dim: int, spread: float, seed: int, offset: int = 0):
    """Gaussian clusters around random unit centres (``spread`` = within-class std)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(100 + offset).normal(size=(classes, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(classes), n_per_class) + offset
    x = centres[labels - offset] + spread * rng.normal(size=(len(labels), dim))
    return x.astype(np.float32), labels


def write_dir(root, train, test, test_shifted=None, labeled=None, proj_dim=None, meta_extra=None):
    """An embeddings directory as ``train predict`` writes it, from ``(x, y)`` pairs."""
    emb = root / "embeddings"
    emb.mkdir(parents=True)
    meta = {"format_version": 1, "checkpoint": "synthetic.ckpt", "splits": {}, **(meta_extra or {})}
    for name, part in (("train", train), ("test", test), ("test_shifted", test_shifted)):
        if part is None:
            continue
        x, y = part
        rows = {"features": x, "labels": y, "indices": np.arange(len(y))}
        if proj_dim:
            rows["projection"] = x[:, :proj_dim]
        ids = [f"{'test' if name.startswith('test') else name}/{i}.png" for i in range(len(y))]
        flags = labeled if name == "train" else np.zeros(len(y), bool)
        meta["splits"][name] = write_split(emb, name, rows, ids, flags)
    (emb / "meta.json").write_text(json.dumps(meta))
    return emb


def run(root, **kwargs):
    kwargs.setdefault("umap", False)
    return evaluate(root, log=lambda m: None, **kwargs)


def test_separated_clusters_score_near_one(tmp_path):
    train = clusters(60, 5, 16, 0.1, seed=0)
    test = clusters(20, 5, 16, 0.1, seed=1)
    write_dir(tmp_path, train, test, proj_dim=3)
    m = run(tmp_path, k=20)
    for key in KEYS:
        assert m[key] > 0.95, key
    assert m["labelprop_test_top1"] > 0.95
    assert "anomaly_auroc" not in m  # no class held out
    assert set(m["spaces"]) == {"features", "projection"}
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert all(k in saved for k in KEYS)
    assert (tmp_path / "plots" / "corner.png").is_file()  # projection has 3 <= 8 dims
    assert (tmp_path / "plots" / "knn_confusion.png").is_file()
    report = (tmp_path / "report.md").read_text()
    assert "plots/knn_confusion.png" in report and "kNN top-1" in report


def test_random_embeddings_score_near_chance(tmp_path):
    rng = np.random.default_rng(0)
    train = (rng.normal(size=(1000, 16)).astype(np.float32), rng.integers(0, 10, 1000))
    test = (rng.normal(size=(600, 16)).astype(np.float32), rng.integers(0, 10, 600))
    write_dir(tmp_path, train, test)
    m = run(tmp_path, k=50)
    assert m["chance_top1"] == pytest.approx(0.1)
    assert m["knn_top1"] < 0.2 and m["linear_top1"] < 0.2
    assert m["knn_top5"] < 0.65
    assert m["kmeans_nmi"] < 0.05 and abs(m["kmeans_ari"]) < 0.05


def test_held_out_shifted_class_is_an_anomaly(tmp_path):
    train = clusters(50, 4, 8, 0.15, seed=0)
    test_in = clusters(20, 4, 8, 0.15, seed=1)
    novel = clusters(20, 1, 8, 0.15, seed=2, offset=4)  # class 4: never in train
    test = (np.concatenate([test_in[0], novel[0]]), np.concatenate([test_in[1], novel[1]]))
    write_dir(tmp_path, train, test, proj_dim=2, meta_extra={"class_names": list("abcde")})
    m = run(tmp_path, k=20)
    assert m["held_out_labels"] == [4] and m["held_out_classes"] == ["e"]
    assert m["anomaly_auroc"] > 0.95
    assert m["num_test_in_distribution"] == 80 and m["knn_top1"] > 0.95  # novel rows left out
    assert (tmp_path / "plots" / "anomaly_roc.png").is_file()


def test_domain_shift_is_measured(tmp_path):
    train = clusters(50, 4, 8, 0.1, seed=0)
    test = clusters(20, 4, 8, 0.1, seed=1)
    noisy = (
        test[0] + np.random.default_rng(3).normal(0, 0.6, test[0].shape).astype(np.float32),
        test[1],
    )
    write_dir(tmp_path, train, test, test_shifted=noisy)
    m = run(tmp_path, k=20)
    assert m["knn_top1"] > 0.95 and m["knn_top1_shifted"] < m["knn_top1"]
    assert m["anomaly_score_shifted"] > m["anomaly_score_clean"]
    assert m["shift_auroc"] > 0.9
    assert (tmp_path / "plots" / "anomaly_scores.png").is_file()


def test_split_aware_fits_only_the_labeled_part(tmp_path):
    train = clusters(50, 4, 8, 0.1, seed=0)
    labeled = np.zeros(200, bool)
    labeled[::10] = True  # 5 labeled per class
    write_dir(tmp_path / "a", train, clusters(20, 4, 8, 0.1, seed=1), labeled=labeled)
    m = run(tmp_path / "a", k=5)
    assert m["num_fit"] == 20
    assert m["labelprop_pool_top1"] > 0.95  # the 180 unlabeled rows, labeled from 20
    full = run(tmp_path / "a", k=5, split_aware=False)
    assert full["num_fit"] == 200 and full["labelprop_pool_top1"] is None


@pytest.mark.slow  # UMAP's numba compilation: about a minute
def test_training_curves_and_umap(tmp_path):
    write_dir(tmp_path, clusters(30, 3, 8, 0.1, seed=0), clusters(10, 3, 8, 0.1, seed=1))
    log = tmp_path / "version_0"
    log.mkdir()
    pd.DataFrame(
        {
            "epoch": [0, 0, 1],
            "step": [9, 10, 19],
            "train/loss_step": [5.0, np.nan, 4.0],
            "val/knn_top1": [np.nan, 0.3, 0.4],
        }
    ).to_csv(log / "metrics.csv", index=False)
    m = run(tmp_path, k=10, umap=True)
    assert {"plots/umap.png", "plots/training_curves.png"} <= set(m["plots"])
    assert "![UMAP of test embeddings](plots/umap.png)" in (tmp_path / "report.md").read_text()
    assert m["run"]["metrics_csv"].endswith("version_0/metrics.csv")


def test_training_curves_without_umap(tmp_path):
    write_dir(tmp_path, clusters(30, 3, 8, 0.1, seed=0), clusters(10, 3, 8, 0.1, seed=1))
    (tmp_path / "version_0").mkdir()
    pd.DataFrame({"epoch": [0, 1], "step": [9, 19], "train/loss_epoch": [5.0, 4.0]}).to_csv(
        tmp_path / "version_0" / "metrics.csv", index=False
    )
    m = run(tmp_path, k=10)
    assert m["plots"][-1] == "plots/training_curves.png"


def test_embeddings_are_readable_in_one_line(tmp_path):
    emb = write_dir(
        tmp_path, clusters(5, 2, 4, 0.1, seed=0), clusters(3, 2, 4, 0.1, seed=1), proj_dim=2
    )
    data = np.load(emb / "test.npz")
    assert data["features"].shape == (6, 4) and data["projection"].shape == (6, 2)
    table = pd.read_csv(emb / "test.csv")
    assert list(table.columns[:3]) == ["index", "id", "label"]
    assert {"proj_0", "proj_1", "labeled"} <= set(table.columns)
    splits, meta = load_embeddings(emb)
    assert set(splits) == {"train", "test"} and meta["checkpoint"] == "synthetic.ckpt"


def test_merge_shards_dedups_sorts_and_refuses_gaps():
    # two "ranks" of a DistributedSampler over 5 samples: rank 1 padded with sample 0
    rank0 = {"indices": np.array([0, 2, 4]), "features": np.array([[0.0], [2.0], [4.0]])}
    rank1 = {"indices": np.array([3, 1, 0]), "features": np.array([[3.0], [1.0], [0.0]])}
    merged = merge_shards([rank1, rank0], size=5)
    np.testing.assert_array_equal(merged["indices"], np.arange(5))
    np.testing.assert_array_equal(merged["features"][:, 0], np.arange(5.0))
    with pytest.raises(EmbeddingsError, match="cover 5 of 6"):
        merge_shards([rank0, rank1], size=6)


# --------------------------------------------------------------------------- refusals
def _good(tmp_path, **kw):
    return write_dir(tmp_path, clusters(5, 2, 4, 0.1, seed=0), clusters(3, 2, 4, 0.1, seed=1), **kw)


def _fails(tmp_path, match):
    with pytest.raises(SystemExit, match=match):
        main([str(tmp_path), "--no-umap"])


def test_missing_directory(tmp_path):
    _fails(tmp_path / "nothing", "No embeddings directory.*train predict")


def test_missing_or_malformed_meta(tmp_path):
    emb = _good(tmp_path)
    (emb / "meta.json").write_text("{not json")
    _fails(tmp_path, "not valid JSON")
    (emb / "meta.json").unlink()
    _fails(tmp_path, "no meta.json")


def test_missing_split(tmp_path):
    emb = _good(tmp_path)
    (emb / "test.npz").unlink()
    _fails(tmp_path, "lacks the test split")


def test_width_mismatch(tmp_path):
    emb = _good(tmp_path)
    test = dict(np.load(emb / "test.npz"))
    test["features"] = np.zeros((6, 7), np.float32)
    np.savez(emb / "test.npz", **test)
    _fails(tmp_path, r"features widths differ between train \(4\) and test \(7\)")


def test_row_count_mismatch(tmp_path):
    emb = _good(tmp_path)
    test = dict(np.load(emb / "test.npz"))
    test["ids"] = test["ids"][:4]
    np.savez(emb / "test.npz", **test)
    _fails(tmp_path, "ids has 4 rows but labels has 6")


def test_rows_disagree_with_meta(tmp_path):
    emb = _good(tmp_path)
    test = dict(np.load(emb / "test.npz"))
    np.savez(emb / "test.npz", **{k: v[:4] for k, v in test.items()})
    _fails(tmp_path, "test.npz has 4 rows but meta.json says 6")


def test_shifted_test_of_other_samples(tmp_path):
    x, y = clusters(3, 2, 4, 0.1, seed=1)
    emb = _good(tmp_path, test_shifted=(x, y))
    shifted = dict(np.load(emb / "test_shifted.npz"))
    shifted["ids"] = shifted["ids"][::-1]
    np.savez(emb / "test_shifted.npz", **shifted)
    _fails(tmp_path, "test_shifted.npz does not hold the same samples")


def test_nan_and_missing_arrays(tmp_path):
    emb = _good(tmp_path)
    train = dict(np.load(emb / "train.npz"))
    np.savez(emb / "train.npz", **{**train, "features": np.full_like(train["features"], np.nan)})
    _fails(tmp_path, "NaN")
    np.savez(emb / "train.npz", **{k: v for k, v in train.items() if k != "labels"})
    _fails(tmp_path, r"lacks arrays \['labels'\]")


def test_space_without_projection(tmp_path):
    _good(tmp_path)
    with pytest.raises(SystemExit, match="hold only"):
        main([str(tmp_path), "--no-umap", "--space", "projection"])


def test_collapse_scores_tell_a_collapsed_space_from_a_spread_one(tmp_path):
    """RankMe and lightly's spread of the normalized embeddings: isotropic embeddings
    are near full rank with a spread near 1/sqrt(D); embeddings on one direction (plus
    a little noise) have rank ~1 and no spread; the evaluation writes both for the test
    embeddings of every space."""
    from ssl_core.evaluate.metrics import collapse_scores

    rng = np.random.default_rng(0)
    spread = collapse_scores(rng.normal(size=(2000, 16)))
    assert spread["rankme"] > 15 and spread["std_l2"] == pytest.approx(16**-0.5, rel=0.05)
    line = np.outer(rng.uniform(1, 2, 2000), rng.normal(size=16))
    collapsed = collapse_scores(line + 1e-3 * rng.normal(size=line.shape))
    assert collapsed["rankme"] < 1.2 and collapsed["std_l2"] < 1e-2

    test = clusters(20, 5, 16, 0.1, seed=1)
    write_dir(tmp_path, clusters(60, 5, 16, 0.1, seed=0), test, proj_dim=3)
    m = run(tmp_path, k=20)
    assert {"rankme", "std_l2"} <= set(m["spaces"]["projection"])
    for key, value in collapse_scores(test[0]).items():  # of the test features
        assert m["spaces"]["features"][key] == pytest.approx(value, rel=1e-5)
