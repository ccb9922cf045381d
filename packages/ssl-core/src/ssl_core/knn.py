"""Weighted k-nearest-neighbour classification of embeddings.

The vote of Wu et al. 2018 (InstDisc, arXiv:1805.01978), as in lightly's benchmarks:
the k most cosine-similar bank samples vote for their class with weight exp(sim / t).
lightly's ``knn_predict`` returns only the ranking of the classes; pseudo-labelling
needs the vote shares themselves (a confidence), so the vote is written here once
(batched over the queries, so that large query sets stay in memory) and serves the
online probe, ``evaluate`` and ``ssl_core.pseudolabels`` alike, on tensors or numpy
arrays. A test checks it against lightly's ``knn_predict``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _tensor(x, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype)


@torch.no_grad()
def knn_scores(queries, bank, bank_labels, num_classes: int, k: int = 200, t: float = 0.1,
               batch_size: int = 1024):  # fmt: skip
    """Vote shares of each class for each query.

    Args:
        queries: Embeddings ``(Q, D)`` (a tensor, or a numpy array: then the result is
            one too); normalized here.
        bank: Labeled embeddings ``(N, D)``; normalized here.
        bank_labels: Integer labels ``(N,)``.
        num_classes: Number of classes C.
        k: Neighbours (clipped to N).
        t: Temperature of the vote weights ``exp(cosine / t)``.

    Returns:
        ``(Q, C)`` vote shares (rows sum to 1).
    """
    as_numpy = isinstance(queries, np.ndarray)
    queries, bank = _tensor(queries, torch.float32), _tensor(bank, torch.float32)
    bank_t = F.normalize(bank.float(), dim=1).t().contiguous()
    labels = _tensor(bank_labels, torch.int64).long().to(bank.device)
    k = min(k, bank.shape[0])
    out = []
    for q in queries.split(batch_size):
        sim = F.normalize(q.float(), dim=1) @ bank_t  # (b, N)
        top_sim, top_idx = sim.topk(k, dim=1)
        weights = (top_sim / t).exp()
        votes = torch.zeros(len(q), num_classes, device=q.device)
        votes.scatter_add_(1, labels[top_idx], weights)
        out.append(votes / votes.sum(dim=1, keepdim=True))
    scores = torch.cat(out) if out else torch.empty(0, num_classes)
    return scores.numpy() if as_numpy else scores


def topk_accuracy(ranked: torch.Tensor, labels: torch.Tensor, k: int = 1) -> float:
    """Fraction of rows of ``ranked`` ``(Q, C)`` (classes, most voted first) whose first k
    entries hold the label."""
    hits = (ranked[:, :k] == labels.view(-1, 1)).any(dim=1)
    return hits.float().mean().item()


def knn_accuracy(bank, bank_labels, queries, labels, num_classes: int, k: int = 200,
                 t: float = 0.1) -> dict:  # fmt: skip
    """Top-1 and top-5 accuracy of the vote on labeled ``queries`` (numpy arrays or
    tensors), and its top-1 predictions (numpy)."""
    scores = knn_scores(_tensor(queries, torch.float32), bank, bank_labels, num_classes, k=k, t=t)
    ranked = scores.argsort(dim=1, descending=True)
    labels = _tensor(labels, torch.int64)
    return {
        "top1": topk_accuracy(ranked, labels, 1),
        "top5": topk_accuracy(ranked, labels, min(5, num_classes)),
        "predictions": ranked[:, 0].numpy(),
    }
