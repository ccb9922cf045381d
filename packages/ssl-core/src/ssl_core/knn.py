"""Weighted k-nearest-neighbour classification of embeddings.

The vote of Wu et al. 2018 (InstDisc, arXiv:1805.01978), as in lightly's benchmarks:
the k most cosine-similar bank samples vote for their class with weight exp(sim / t).
lightly's ``knn_predict`` does the math; this module adds batching over the queries so
that large query sets stay in memory, and top-k accuracy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightly.utils.benchmarking import knn_predict


@torch.no_grad()
def knn_classify(
    queries: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    num_classes: int,
    k: int = 200,
    t: float = 0.1,
    batch_size: int = 1024,
) -> torch.Tensor:
    """Rank classes for each query by weighted kNN vote.

    Args:
        queries: Embeddings ``(Q, D)``; normalized here.
        bank: Labeled embeddings ``(N, D)``; normalized here.
        bank_labels: Integer labels ``(N,)``.
        num_classes: Number of classes C.
        k: Neighbours (clipped to N).
        t: Temperature of the vote weights.

    Returns:
        Class indices ``(Q, C)``, most voted first.
    """
    bank_t = F.normalize(bank.float(), dim=1).t().contiguous()
    k = min(k, bank.shape[0])
    out = [
        knn_predict(F.normalize(q.float(), dim=1), bank_t, bank_labels, num_classes, k, t)
        for q in queries.split(batch_size)
    ]
    return torch.cat(out) if out else torch.empty(0, num_classes, dtype=torch.long)


def topk_accuracy(ranked: torch.Tensor, labels: torch.Tensor, k: int = 1) -> float:
    """Fraction of rows of ``ranked`` ``(Q, C)`` whose first k entries hold the label."""
    hits = (ranked[:, :k] == labels.view(-1, 1)).any(dim=1)
    return hits.float().mean().item()
