"""Weighted k-nearest-neighbour classification of embeddings.

The vote of Wu et al. 2018 (InstDisc, arXiv:1805.01978), as in lightly's benchmarks:
the k most cosine-similar bank samples vote for their class with weight exp(sim / t).
lightly's ``knn_predict`` returns only the ranking of the classes; pseudo-labelling
needs the vote shares themselves (a confidence), so the vote is written here once
(batched over the queries, so that large query sets stay in memory) and serves the
online probe, ``evaluate`` and ``ssl_core.pseudolabels`` alike. A test checks it against
lightly's ``knn_predict``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_scores(
    queries: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    num_classes: int,
    k: int = 200,
    t: float = 0.1,
    batch_size: int = 1024,
) -> torch.Tensor:
    """Vote shares of each class for each query.

    Args:
        queries: Embeddings ``(Q, D)``; normalized here.
        bank: Labeled embeddings ``(N, D)``; normalized here.
        bank_labels: Integer labels ``(N,)``.
        num_classes: Number of classes C.
        k: Neighbours (clipped to N).
        t: Temperature of the vote weights ``exp(cosine / t)``.

    Returns:
        ``(Q, C)`` vote shares (rows sum to 1).
    """
    bank_t = F.normalize(bank.float(), dim=1).t().contiguous()
    labels = bank_labels.long().to(bank.device)
    k = min(k, bank.shape[0])
    out = []
    for q in queries.split(batch_size):
        sim = F.normalize(q.float(), dim=1) @ bank_t  # (b, N)
        top_sim, top_idx = sim.topk(k, dim=1)
        weights = (top_sim / t).exp()
        votes = torch.zeros(len(q), num_classes, device=q.device)
        votes.scatter_add_(1, labels[top_idx], weights)
        out.append(votes / votes.sum(dim=1, keepdim=True))
    return torch.cat(out) if out else torch.empty(0, num_classes)


def knn_classify(
    queries: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    num_classes: int,
    k: int = 200,
    t: float = 0.1,
    batch_size: int = 1024,
) -> torch.Tensor:
    """Rank classes for each query by weighted kNN vote (arguments of :func:`knn_scores`).

    Returns:
        Class indices ``(Q, C)``, most voted first.
    """
    scores = knn_scores(queries, bank, bank_labels, num_classes, k, t, batch_size)
    return scores.argsort(dim=1, descending=True)


def topk_accuracy(ranked: torch.Tensor, labels: torch.Tensor, k: int = 1) -> float:
    """Fraction of rows of ``ranked`` ``(Q, C)`` whose first k entries hold the label."""
    hits = (ranked[:, :k] == labels.view(-1, 1)).any(dim=1)
    return hits.float().mean().item()
