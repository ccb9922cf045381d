"""The field's figures of a two-class score (top tagging's): ROC AUC and background
rejection ``1 / eps_B`` at fixed signal efficiencies, for ``evaluate``, the methods'
online metrics and the comparison; out of :mod:`ssl_core.evaluate` because training uses it.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys.
  7, 014 (2019), https://arxiv.org/abs/1902.09914 (AUC and 1/eps_B at eps_S = 0.3)
"""

from __future__ import annotations

import numpy as np

# Signal efficiencies of the background rejections reported (top tagging's convention).
SIGNAL_EFFICIENCIES = (0.3, 0.5)
#: The keys of :func:`two_class_scores` that ``metrics.json`` holds.
TWO_CLASS_KEYS = ("roc_auc", "rejection_eff30", "rejection_eff50")


def rejection_at(fpr: np.ndarray, tpr: np.ndarray, efficiency: float) -> float | None:
    """Background rejection ``1 / eps_B`` at ``eps_S = efficiency`` on the ROC curve
    ``(fpr = eps_B, tpr = eps_S)`` interpolated linearly (as the top-tagging comparison
    does), the lowest ``fpr`` of a flat stretch counting. ``None`` when no background
    passes: the rejection is then only known to exceed the number of background rows."""
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
