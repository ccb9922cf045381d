"""evaluate's two-class figures (ROC AUC, 1/eps_B at eps_S = 0.3 and 0.5) on synthetic
embeddings whose answers are known in closed form."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

from ssl_core.embeddings import write_split
from ssl_core.evaluate import evaluate
from ssl_core.two_class import rejection_at, rejection_interval, two_class_scores


def phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def gaussians(n: int, delta: float, seed: int, dim: int = 8, classes: int = 2):
    """Class c: N(0, 1) in ``dim`` dimensions, shifted by ``c * delta`` along axis 0."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, dim))
    x[:, 0] += delta * y
    return x.astype(np.float32), y


def write_run(root, train, test, meta_extra=None, logits=None):
    emb = root / "embeddings"
    emb.mkdir(parents=True)
    meta = {"format_version": 1, "splits": {}, **(meta_extra or {})}
    for name, (x, y) in (("train", train), ("test", test)):
        rows = {"features": x, "labels": y, "indices": np.arange(len(y))}
        ids = [f"{name}.npz:{i}" for i in range(len(y))]
        meta["splits"][name] = write_split(emb, name, rows, ids, np.ones(len(y), bool))
    if logits is not None:  # what a run with a classifier adds to test.npz
        with np.load(emb / "test.npz") as data:
            arrays = dict(data)
        np.savez(emb / "test.npz", **arrays, logits=logits)
    (emb / "meta.json").write_text(json.dumps(meta))


def run(root):
    return evaluate(root, log=lambda m: None, umap=False, k=20)


def test_figures_match_a_brute_force_reference():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = rng.normal(size=500) + y
    out = two_class_scores(y, s, positive=1)
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert out["roc_auc"] == pytest.approx(pairs, abs=1e-12)
    best = np.sort(pos)[::-1]
    for eff in (0.3, 0.5):
        # lowest eps_B reaching k of the signal rows: background at or above the k-th best
        # signal score; linear between the two k around eff * N_S
        at = lambda k: (neg >= best[k - 1]).mean() if k > 0 else 0.0  # noqa: E731
        k = int(np.floor(eff * len(pos)))
        expected = at(k) + (eff * len(pos) - k) * (at(k + 1) - at(k))
        got = out[f"rejection_eff{round(eff * 100)}"]
        assert 1 / got == pytest.approx(expected, rel=1e-9)
    flipped = two_class_scores(1 - y, s, positive=0)  # class 0 named the signal: same rows
    assert flipped["roc_auc"] == pytest.approx(out["roc_auc"])


def test_rejection_is_none_when_no_background_passes():
    fpr, tpr = np.array([0.0, 0.0, 0.0, 1.0]), np.array([0.0, 0.4, 1.0, 1.0])
    assert rejection_at(fpr, tpr, 0.3) is None
    assert rejection_at(np.array([0.0, 0.1, 1.0]), np.array([0.0, 0.5, 1.0]), 0.5) == 10.0


def test_the_rejection_interval_covers_the_true_rejection_as_often_as_it_says():
    """The 68% bootstrap interval of 1/eps_B at eps_S = 0.3 on test sets drawn from two
    unit Gaussians delta apart (true rejection from the quantiles) covers the truth in
    about 68% of 40 draws, brackets its own estimate, and is wider with fewer background rows."""
    delta = 1.5
    truth = 1 / (1 - phi(delta + NormalDist().inv_cdf(0.7)))  # P(N(delta, 1) > z) = 0.3
    covered, widths = 0, {}
    for seed in range(40):
        rng = np.random.default_rng(seed)
        y = np.r_[np.zeros(1000, int), np.ones(500, int)]
        s = rng.normal(size=len(y)) + delta * y
        interval = rejection_interval(y, s, positive=1, times=100, seed=seed)
        lo, hi = interval["rejection_eff30_lo"], interval["rejection_eff30_hi"]
        assert lo <= two_class_scores(y, s, positive=1)["rejection_eff30"] <= hi
        covered += lo <= truth <= hi
        widths.setdefault(1000, []).append(hi / lo)
        few = np.r_[np.flatnonzero(y == 0)[:400], np.flatnonzero(y == 1)]  # 400 background
        small = rejection_interval(y[few], s[few], positive=1, times=100, seed=seed)
        widths.setdefault(400, []).append(small["rejection_eff30_hi"] / small["rejection_eff30_lo"])
    assert 0.45 <= covered / 40 <= 0.9
    assert np.median(widths[400]) > np.median(widths[1000])
    separated = rejection_interval(np.r_[0, 0, 1, 1], np.r_[0.0, 0.1, 0.9, 1.0], positive=1)
    assert separated == {"rejection_eff30_lo": None, "rejection_eff30_hi": None}  # unbounded


def test_linear_probe_figures_on_two_gaussians(tmp_path):
    delta = 1.5
    write_run(tmp_path, gaussians(4000, delta, 0), gaussians(6000, delta, 1))
    m = run(tmp_path)
    assert m["two_class_score"] == "linear probe (features)" and m["signal_class"] == 1
    # Bayes-optimal score is x_0: AUC = Phi(delta / sqrt 2); eps_B at eps_S from quantiles
    assert m["roc_auc"] == pytest.approx(phi(delta / math.sqrt(2)), abs=0.015)
    for eff, key in ((0.3, "rejection_eff30"), (0.5, "rejection_eff50")):
        z = delta + NormalDist().inv_cdf(1 - eff)  # P(N(delta, 1) > z) = eff
        assert m[key] == pytest.approx(1 / (1 - phi(z)), rel=0.2), key
    assert m["spaces"]["features"]["roc_auc"] == m["roc_auc"]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert {"roc_auc", "rejection_eff30", "rejection_eff50"} <= set(saved)
    assert saved["rejection_eff30_lo"] < saved["rejection_eff30"] < saved["rejection_eff30_hi"]
    roc = [p for p in saved["plots"] if "roc" in p]
    assert roc == ["plots/two_class_roc.png"] and (tmp_path / roc[0]).stat().st_size > 10_000


def test_the_sources_signal_class_is_the_positive_one(tmp_path):
    write_run(tmp_path, gaussians(2000, 1.0, 0), gaussians(2000, 1.0, 1), {"signal_class": 0})
    m = run(tmp_path)
    assert m["signal_class"] == 0 and m["roc_auc"] == pytest.approx(phi(1 / math.sqrt(2)), abs=0.03)
    other = tmp_path / "other"
    write_run(other, gaussians(2000, 1.0, 0), gaussians(2000, 1.0, 1))
    m1 = run(other)
    assert m1["roc_auc"] == pytest.approx(m["roc_auc"], abs=1e-9)  # the same ranking
    assert m1["rejection_eff30"] != pytest.approx(m["rejection_eff30"], rel=0.01)


def test_the_classifiers_logits_are_used_when_the_run_has_them(tmp_path):
    train, test = gaussians(1000, 3.0, 0), gaussians(2000, 3.0, 1)
    # a classifier that sees a much better variable than the embeddings hold
    rng = np.random.default_rng(2)
    margin = 6.0 * test[1] + rng.normal(size=len(test[1]))
    logits = np.stack([np.zeros_like(margin), margin], axis=1)
    write_run(tmp_path, train, test, logits=logits)
    m = run(tmp_path)
    assert m["two_class_score"] == "classifier"
    assert m["roc_auc"] == pytest.approx(phi(6 / math.sqrt(2)), abs=0.005)
    assert m["classifier"]["roc_auc"] == m["roc_auc"]
    assert m["spaces"]["features"]["roc_auc"] == pytest.approx(phi(3 / math.sqrt(2)), abs=0.02)
    # an untrained head's logits (the random-init baseline, `--no-classifier`): the probe's
    untrained = evaluate(tmp_path, umap=False, classifier=False)
    assert untrained["two_class_score"] == "linear probe (features)"
    assert untrained["roc_auc"] == untrained["spaces"]["features"]["roc_auc"]


def test_no_two_class_figures_with_more_classes(tmp_path):
    write_run(tmp_path, gaussians(900, 2.0, 0, classes=3), gaussians(900, 2.0, 1, classes=3))
    m = run(tmp_path)
    assert "roc_auc" not in m and "rejection_eff30" not in m
    assert not any("roc" in p for p in m["plots"])


def test_online_two_class_figures_are_evaluate_s_on_the_same_scores():
    """The classifier's ``val/roc_auc`` and rejections (a ``BinaryROC`` of every score,
    what ``train test`` logs for the comparison) equal ``evaluate``'s of the same scores."""
    import torch
    from torchmetrics.classification import BinaryROC

    from ssl_core.methods.base import BaseMethod

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    scores = np.round(rng.random(500) * 0.8 + 0.2 * labels, 2)  # ties, as probabilities have
    roc = BinaryROC()
    roc.update(torch.from_numpy(scores).float(), torch.from_numpy(labels))
    online = BaseMethod._two_class(*roc.compute()[:2])
    offline = two_class_scores(labels, scores.astype(np.float32), positive=1)
    assert online["roc_auc"] == pytest.approx(offline["roc_auc"], abs=1e-6)
    for key in ("rejection_eff30", "rejection_eff50"):
        assert offline[key] is not None and online[key] == pytest.approx(offline[key], rel=1e-4)
    interval = rejection_interval(labels, scores.astype(np.float32), positive=1)
    assert BaseMethod._interval(roc) == pytest.approx(interval, rel=1e-4)  # train test's
    separated = np.r_[np.zeros(50), np.ones(50)]  # no background passes: no rejection logged
    roc.reset()
    roc.update(torch.from_numpy(separated).float(), torch.from_numpy(separated).long())
    assert set(BaseMethod._two_class(*roc.compute()[:2])) == {"roc_auc"}


def test_hold_out_makes_a_trained_class_the_anomaly(tmp_path):
    """``evaluate --hold-out`` on a space that saw every class (e.g. the untrained
    network's): the held-out class is not fitted and its test rows are the anomalies."""
    from ssl_core.evaluate.run import main

    def three_caps(seed):  # class c around 4 e_c: apart on the sphere the scorer works on
        rng = np.random.default_rng(seed)
        y = np.arange(900) % 3
        x = rng.normal(size=(900, 8))
        x[np.arange(900), y] += 4.0
        return x.astype(np.float32), y

    write_run(tmp_path, three_caps(0), three_caps(1))
    m = run(tmp_path)
    assert m["held_out_classes"] == [] and "anomaly_auroc" not in m
    m = evaluate(tmp_path, log=lambda _: None, umap=False, k=20, hold_out=["2"])
    assert m["held_out_labels"] == [2] and m["num_test_in_distribution"] == 600
    assert m["anomaly_auroc"] > 0.95  # its own direction: far from both fitted means
    assert "roc_auc" in m  # two classes left: the two-class figures of 0 against 1
    with pytest.raises(SystemExit, match="hold-out"):
        main([str(tmp_path), "--no-umap", "--hold-out", "nine"])
