"""Weighted kNN (Wu et al. 2018) against a short reference, and top-k accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ssl_core.knn import knn_accuracy, knn_scores, topk_accuracy


def knn_classify(queries, bank, labels, num_classes, **kwargs):
    """Classes ranked by vote, most voted first."""
    return knn_scores(queries, bank, labels, num_classes, **kwargs).argsort(dim=1, descending=True)


def knn_scores_reference(queries, bank, labels, num_classes, k, t):
    """Class scores (Q, C): sum of exp(cos / t) over each query's k nearest bank samples."""
    scores = torch.zeros(len(queries), num_classes)
    for qi, q in enumerate(queries):
        sims = F.cosine_similarity(q[None], bank, dim=1)
        top = sims.topk(min(k, len(bank))).indices
        for b in top:
            scores[qi, labels[b]] += torch.exp(sims[b] / t)
    return scores


@pytest.mark.parametrize("k,t", [(1, 0.1), (5, 0.07), (20, 0.5), (1000, 0.1)])
def test_knn_matches_reference(k, t):
    g = torch.Generator().manual_seed(k)
    bank = torch.randn(50, 16, generator=g) * 3  # unnormalized on purpose: cosine inside
    labels = torch.randint(0, 6, (50,), generator=g)
    queries = torch.randn(13, 16, generator=g)
    ranked = knn_classify(queries, bank, labels, num_classes=6, k=k, t=t, batch_size=4)
    scores = knn_scores_reference(queries, bank, labels, 6, k, t)
    assert ranked.shape == (13, 6)
    assert torch.equal(ranked[:, 0], scores.argmax(dim=1))
    # Every row ranks all classes, by non-increasing reference score.
    assert torch.equal(ranked.sort(dim=1).values, torch.arange(6).expand(13, 6))
    ordered = scores.gather(1, ranked)
    assert (ordered[:, :-1] >= ordered[:, 1:] - 1e-4).all()


def test_knn_batching_does_not_change_result():
    g = torch.Generator().manual_seed(0)
    bank, queries = torch.randn(40, 8, generator=g), torch.randn(25, 8, generator=g)
    labels = torch.randint(0, 4, (40,), generator=g)
    a = knn_classify(queries, bank, labels, 4, k=7, t=0.1, batch_size=3)
    b = knn_classify(queries, bank, labels, 4, k=7, t=0.1, batch_size=1000)
    assert torch.equal(a[:, 0], b[:, 0])


def test_knn_recovers_clusters():
    centers = torch.eye(3, 8) * 10
    bank = centers.repeat_interleave(5, 0) + torch.randn(15, 8) * 0.1
    labels = torch.arange(3).repeat_interleave(5)
    queries = centers + torch.randn(3, 8) * 0.1
    ranked = knn_classify(queries, bank, labels, 3, k=5)
    assert topk_accuracy(ranked, torch.arange(3), k=1) == 1.0


def test_topk_accuracy():
    ranked = torch.tensor([[2, 0, 1], [0, 1, 2], [1, 2, 0], [2, 1, 0]])
    labels = torch.tensor([2, 1, 0, 0])
    assert topk_accuracy(ranked, labels, k=1) == 0.25
    assert topk_accuracy(ranked, labels, k=2) == 0.5
    assert topk_accuracy(ranked, labels, k=3) == 1.0


def test_ranking_matches_lightlys_knn_predict():
    """knn_scores is written here (lightly returns no vote shares); its ranking must be
    lightly's benchmark kNN."""
    from lightly.utils.benchmarking import knn_predict

    g = torch.Generator().manual_seed(3)
    bank, labels = torch.randn(120, 16, generator=g), torch.randint(0, 6, (120,), generator=g)
    queries = torch.randn(40, 16, generator=g)
    ours = knn_classify(queries, bank, labels, 6, k=15, t=0.1)
    bank_t = torch.nn.functional.normalize(bank, dim=1).t()
    theirs = knn_predict(torch.nn.functional.normalize(queries, dim=1), bank_t, labels, 6, 15, 0.1)
    assert torch.equal(ours[:, 0], theirs[:, 0])
    scores = knn_scores(queries, bank, labels, 6, k=15, t=0.1)
    assert torch.allclose(scores.sum(dim=1), torch.ones(40))


def test_numpy_in_numpy_out_and_accuracy_of_a_labeled_query_set():
    rng = np.random.default_rng(0)
    centers = np.eye(3, 8) * 10
    bank = np.repeat(centers, 5, axis=0) + rng.normal(0, 0.1, (15, 8))
    labels = np.repeat(np.arange(3), 5)
    queries = centers + rng.normal(0, 0.1, (3, 8))
    scores = knn_scores(queries, bank, labels, 3, k=5)
    assert isinstance(scores, np.ndarray) and scores.shape == (3, 3)
    np.testing.assert_allclose(
        scores, knn_scores(*map(torch.tensor, (queries, bank, labels)), 3, k=5)
    )
    got = knn_accuracy(bank, labels, queries, np.array([0, 1, 1]), 3, k=5)
    assert got["top1"] == pytest.approx(2 / 3) and got["predictions"].tolist() == [0, 1, 2]
