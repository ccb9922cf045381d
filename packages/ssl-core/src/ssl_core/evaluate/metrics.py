"""Downstream measures of an embedding space, on numpy arrays: L2-normalized embeddings
(the sphere the contrastive losses shape), but the linear probe standardizes raw ones.
scikit-learn fits; the kNN vote is :mod:`ssl_core.knn`; RankMe is written here.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.semi_supervised import LabelSpreading


def l2(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64 for the scikit-learn estimators)."""
    return normalize(np.asarray(x, dtype=np.float64))


def _topk(ranked: np.ndarray, labels: np.ndarray, k: int) -> float:
    k = min(k, ranked.shape[1])
    return float((ranked[:, :k] == labels[:, None]).any(axis=1).mean())


def collapse_scores(x: np.ndarray) -> dict:
    """How collapsed the embeddings ``(N, D)`` are, without labels.

    - ``rankme``: exp of the entropy of the normalized singular values (RankMe, Garrido
      et al. 2023, arXiv:2210.02885): 1 when all lie on one line, up to ``min(N, D)``.
    - ``std_l2``: lightly's ``std_of_l2_normalized`` (SimSiam, Chen & He 2021): 0 when all
      point the same way, about ``1 / sqrt(D)`` for an isotropic Gaussian.
    """
    # imported here: lightly.utils.debug also imports pyplot and torchvision
    from lightly.utils.debug import std_of_l2_normalized

    x = np.asarray(x, dtype=np.float64)
    s = np.linalg.svd(x, compute_uv=False)
    p = s / s.sum() + 1e-12
    std_l2 = std_of_l2_normalized(torch.from_numpy(x))
    return {"rankme": float(np.exp(-(p * np.log(p)).sum())), "std_l2": float(std_l2)}


def probe(c: float = 1.0, max_iter: int = 1000, seed: int | None = None) -> Pipeline:
    """Logistic regression on standardized rows, unfitted: every probe of ``evaluate``."""
    logistic = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    return make_pipeline(StandardScaler(), logistic)


def linear_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    c: float = 1.0,
    max_iter: int = 1000,
    seed: int = 0,
) -> dict:
    """Logistic regression on standardized embeddings: test top-1/top-5, and the class
    probabilities ``proba`` ``(N, C)`` of the test rows for the classes ``classes``."""
    fitted = probe(c, max_iter, seed).fit(x_train, y_train)
    proba = fitted.predict_proba(x_test)
    ranked = fitted.classes_[np.argsort(-proba, axis=1)]
    return {
        "top1": _topk(ranked, y_test, 1),
        "top5": _topk(ranked, y_test, 5),
        "proba": proba,
        "classes": fitted.classes_,
    }


def kmeans_scores(x: np.ndarray, labels: np.ndarray, k: int | None = None, seed: int = 0) -> dict:
    """k-means (k = number of classes present) against the labels: NMI and ARI."""
    k = k or len(np.unique(labels))
    clusters = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(l2(x))
    return {
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
        "k": int(k),
    }


def _spreading(x: np.ndarray, y: np.ndarray, n_neighbors: int, alpha: float) -> LabelSpreading:
    spreading = LabelSpreading(kernel="knn", n_neighbors=n_neighbors, alpha=alpha, max_iter=100)
    return spreading.fit(l2(x), y)


def label_propagation(
    x: np.ndarray, labels: np.ndarray, known: np.ndarray, n_neighbors: int = 10, alpha: float = 0.2
) -> np.ndarray:
    """Labels for every row spread from the ``known`` rows over a kNN graph
    (scikit-learn's ``LabelSpreading``, Zhou et al. 2004)."""
    return _spreading(x, np.where(known, labels, -1), n_neighbors, alpha).transduction_


def spread_labels(
    x: np.ndarray, labels: np.ndarray, num_classes: int, n_neighbors: int = 20, alpha: float = 0.2
) -> np.ndarray:
    """Label distributions ``(N, C)`` of all rows ``x`` ``(N, D)`` spread from those with
    a label (``-1``: none) as in :func:`label_propagation`."""
    spreading = _spreading(x, labels, n_neighbors, alpha)
    dist = np.zeros((len(x), num_classes))
    dist[:, spreading.classes_] = np.nan_to_num(spreading.label_distributions_)
    return dist / dist.sum(axis=1, keepdims=True).clip(min=1e-12)


class GaussianScorer:
    """Anomaly score (higher = more anomalous): Mahalanobis distance to the nearest class
    mean, one Ledoit-Wolf shrunk covariance (Lee et al. 2018, arXiv:1807.03888)."""

    def fit(self, x: np.ndarray, labels: np.ndarray) -> GaussianScorer:
        x = l2(x)
        self.classes_ = np.unique(labels)
        self.means_ = np.stack([x[labels == c].mean(0) for c in self.classes_])
        centred = x - self.means_[np.searchsorted(self.classes_, labels)]
        self.covariance_ = LedoitWolf(assume_centered=True).fit(centred)
        return self

    def score(self, x: np.ndarray) -> np.ndarray:
        x = l2(x)
        d2 = np.stack([self.covariance_.mahalanobis(x - m) for m in self.means_], axis=1)
        return np.sqrt(d2.min(axis=1))


def auroc(scores_negative: np.ndarray, scores_positive: np.ndarray) -> float:
    """AUROC of telling positives (anomalies) from negatives by a higher score."""
    y = np.r_[np.zeros(len(scores_negative)), np.ones(len(scores_positive))]
    return float(roc_auc_score(y, np.r_[scores_negative, scores_positive]))
