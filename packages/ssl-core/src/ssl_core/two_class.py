"""The field's figures of a two-class score (top tagging's): ROC AUC and background
rejection ``1 / eps_B`` at fixed signal efficiencies, for ``evaluate``, the methods'
online metrics and the comparison; out of :mod:`ssl_core.evaluate` because training uses it.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys.
  7, 014 (2019), https://arxiv.org/abs/1902.09914 (AUC and 1/eps_B at eps_S = 0.3)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Signal efficiencies of the background rejections reported (top tagging's convention).
SIGNAL_EFFICIENCIES = (0.3, 0.5)
#: The keys of :func:`two_class_scores` that ``metrics.json`` holds.
TWO_CLASS_KEYS = ("roc_auc", "rejection_eff30", "rejection_eff50")
#: Central coverage and resamples of :func:`rejection_interval` (a 1-sigma-like interval).
INTERVAL_LEVEL, INTERVAL_RESAMPLES = 0.68, 500
#: The keys of :func:`rejection_interval` at its default efficiency.
INTERVAL_KEYS = ("rejection_eff30_lo", "rejection_eff30_hi")


def rejection_at(fpr: np.ndarray, tpr: np.ndarray, efficiency: float) -> float | None:
    """Background rejection ``1 / eps_B`` at ``eps_S = efficiency`` on the ROC curve ``(fpr,
    tpr)`` (docs/evaluation.md, "Two classes"); ``None`` when no background passes."""
    tpr, first = np.unique(np.asarray(tpr), return_index=True)  # curve's tpr is sorted
    eps_b = float(np.interp(efficiency, tpr, np.asarray(fpr)[first]))
    return 1.0 / eps_b if eps_b > 0 else None


def two_class_scores(labels: np.ndarray, scores: np.ndarray, positive: int) -> dict:
    """:data:`TWO_CLASS_KEYS` and the ROC curve (``fpr``, ``tpr``) of ``scores`` ``(N,)``
    (higher = more like the signal class ``positive``) for true ``labels`` ``(N,)``."""
    # imported here: a training process need not pay scikit-learn's import (~0.7 s)
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(labels) == positive
    fpr, tpr, _ = roc_curve(y, scores, drop_intermediate=False)
    out: dict = {"roc_auc": float(roc_auc_score(y, scores))}
    for eff in SIGNAL_EFFICIENCIES:
        out[f"rejection_eff{round(eff * 100)}"] = rejection_at(fpr, tpr, eff)
    out["fpr"], out["tpr"] = fpr, tpr
    return out


def bootstrap(
    labels: np.ndarray, metric: Callable[[np.ndarray], dict], times: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """``metric(rows)``'s values ``(times,)`` over resamples of the rows with replacement
    within each class (each class keeps its count); ``None`` values become NaN."""
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    draws: dict[str, list[float]] = {}
    for _ in range(times):
        rows = np.concatenate([rng.choice(idx, len(idx)) for idx in by_class])
        for key, value in metric(rows).items():
            draws.setdefault(key, []).append(np.nan if value is None else float(value))
    return {k: np.asarray(v) for k, v in draws.items()}


def rejection_interval(
    labels: np.ndarray, scores: np.ndarray, positive: int, efficiency: float = 0.3,
    times: int = INTERVAL_RESAMPLES, seed: int = 0,
) -> dict[str, float | None]:  # fmt: skip
    """The central :data:`INTERVAL_LEVEL` bootstrap interval of the rejection at
    ``eps_S = efficiency`` (keys ``rejection_effNN_lo``, ``_hi``; ``None``: unbounded, no
    background passes). Details and why: docs/evaluation.md, "Two classes"."""
    from sklearn.metrics import roc_curve

    y, scores = np.asarray(labels) == positive, np.asarray(scores)

    def rejection(rows: np.ndarray) -> dict:
        fpr, tpr, _ = roc_curve(y[rows], scores[rows], drop_intermediate=False)
        return {"r": rejection_at(fpr, tpr, efficiency)}

    draws = bootstrap(y.astype(int), rejection, times, seed)["r"]
    draws[np.isnan(draws)] = np.inf
    tail = (1 - INTERVAL_LEVEL) / 2 * 100
    lo, hi = np.percentile(draws, [tail, 100 - tail], method="inverted_cdf")  # inf-safe
    key = f"rejection_eff{round(efficiency * 100)}"
    return {f"{key}_lo": float(lo) if np.isfinite(lo) else None,
            f"{key}_hi": float(hi) if np.isfinite(hi) else None}  # fmt: skip
