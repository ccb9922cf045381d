"""The field's figures of a two-class score (top tagging's): ROC AUC and background
rejection ``1 / eps_B`` at fixed signal efficiencies.

One definition for ``evaluate`` (a probe's or a classifier's scores on embeddings), the
methods' online metrics (``val/roc_auc``, ``test/rejection_eff30``: the same
:func:`rejection_at` on a torchmetrics ROC) and the comparison's frozen-feature rows.
Kept out of :mod:`ssl_core.evaluate`: a training run uses it, and a stage's resume key
hashes the code a run uses.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys.
  7, 014 (2019), https://arxiv.org/abs/1902.09914 (AUC and 1/eps_B at eps_S = 0.3)
"""

from __future__ import annotations

import numpy as np

# Signal efficiencies of the background rejections reported (top tagging's convention).
SIGNAL_EFFICIENCIES = (0.3, 0.5)


def rejection_at(fpr: np.ndarray, tpr: np.ndarray, efficiency: float) -> float | None:
    """Background rejection ``1 / eps_B`` at signal efficiency ``eps_S = efficiency``,
    the ROC curve ``(fpr = eps_B, tpr = eps_S)`` interpolated linearly between its
    points (as the top-tagging comparison does). ``None`` when no background passes at
    that efficiency: the rejection is then only known to exceed the number of
    background rows, which a finite number would misstate.

    Where the curve is flat in ``tpr`` (background passing, no signal gained) the lowest
    ``fpr`` of that ``tpr`` counts: the working point a threshold just above the
    background rows would give.
    """
    tpr, first = np.unique(np.asarray(tpr), return_index=True)  # curve's tpr is sorted
    eps_b = float(np.interp(efficiency, tpr, np.asarray(fpr)[first]))
    return 1.0 / eps_b if eps_b > 0 else None


def two_class_scores(labels: np.ndarray, scores: np.ndarray, positive: int) -> dict:
    """The field's figures of a two-class score: ROC AUC and background rejection
    ``1 / eps_B`` at ``eps_S`` = 0.3 and 0.5 (``rejection_eff30``, ``rejection_eff50``),
    with the ROC curve (``fpr``, ``tpr``) for the plot.

    Args:
        labels: True classes ``(N,)`` of the rows (two classes).
        scores: Higher = more signal-like ``(N,)`` (a probe's or a classifier's
            probability of ``positive``).
        positive: The signal class (jets: top).
    """
    # imported here: every method imports this module for :func:`rejection_at`, and a
    # training process need not pay scikit-learn's import (~0.7 s) to train
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(labels) == positive
    fpr, tpr, _ = roc_curve(y, scores, drop_intermediate=False)
    out: dict = {"roc_auc": float(roc_auc_score(y, scores))}
    for eff in SIGNAL_EFFICIENCIES:
        out[f"rejection_eff{round(eff * 100)}"] = rejection_at(fpr, tpr, eff)
    out["fpr"], out["tpr"] = fpr, tpr
    return out
