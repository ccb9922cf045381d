"""Weighted k-nearest-neighbour classification of embeddings: the one kNN of ssl-core
(online probe, ``evaluate``, :mod:`ssl_core.pseudolabels`); the vote of Wu et al. 2018
(InstDisc, arXiv:1805.01978). Why not lightly's: docs/evaluation.md, "The kNN vote".
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _tensor(x, dtype: torch.dtype) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x)).to(dtype)


@torch.no_grad()
def knn_scores(queries, bank, bank_labels, num_classes: int, k: int = 200, t: float = 0.1,
               batch_size: int = 1024):  # fmt: skip
    """Vote shares ``(Q, C)`` (rows sum to 1) of the classes for queries ``(Q, D)`` from a
    labeled bank ``(N, D)`` with labels ``(N,)``; numpy queries give a numpy result.
    ``k`` is clipped to N; ``t``: temperature of the weights ``exp(cosine / t)``."""
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
    """Share of the rows of ``ranked`` ``(Q, C)`` (best first) with the label in the first k."""
    hits = (ranked[:, :k] == labels.view(-1, 1)).any(dim=1)
    return hits.float().mean().item()


def knn_accuracy(bank, bank_labels, queries, labels, num_classes: int, k: int = 200,
                 t: float = 0.1) -> dict:  # fmt: skip
    """Top-1 and top-5 accuracy of the vote on labeled ``queries``, top-1 predictions (numpy)."""
    scores = knn_scores(_tensor(queries, torch.float32), bank, bank_labels, num_classes, k=k, t=t)
    ranked = scores.argsort(dim=1, descending=True)
    labels = _tensor(labels, torch.int64)
    return {
        "top1": topk_accuracy(ranked, labels, 1),
        "top5": topk_accuracy(ranked, labels, min(5, num_classes)),
        "predictions": ranked[:, 0].numpy(),
    }
