"""Figures of ``evaluate`` (matplotlib, scikit-learn displays, UMAP); each function writes
one PNG and returns its path. The corner plot is written here: the ``corner`` package
draws no class colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay  # noqa: E402

DPI = 110


def _names(labels: np.ndarray, class_names: Sequence[str] | None) -> list[str]:
    return [class_names[c] if class_names and 0 <= c < len(class_names) else str(c) for c in labels]


def _subsample(x: np.ndarray, labels: np.ndarray, max_points: int, seed: int):
    """At most ``max_points`` random rows, and a note of how many."""
    if len(x) <= max_points:
        return x, labels, f"{len(x)} points"
    idx = np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))
    return x[idx], labels[idx], f"random {max_points} of {len(x)} points"


def _scatter_by_class(
    ax, xy: np.ndarray, labels: np.ndarray, class_names, held_out=(), s: float = 4
):
    cmap = plt.get_cmap("tab10" if len(np.unique(labels)) <= 10 else "tab20")
    for i, c in enumerate(np.unique(labels)):
        name = _names(np.array([c]), class_names)[0]
        if c in held_out:  # crosses (which need a line width)
            style = dict(s=s * 4, alpha=0.8, lw=0.8, marker="x", label=f"{name} (held out)")
        else:
            style = dict(s=s, alpha=0.6, lw=0, marker="o", label=name)
        ax.scatter(xy[labels == c, 0], xy[labels == c, 1], color=cmap(i % cmap.N), **style)


def umap_plot(
    x: np.ndarray,
    labels: np.ndarray,
    path: Path,
    class_names=None,
    held_out=(),
    title: str = "",
    max_points: int = 5000,
    seed: int = 0,
) -> Path:
    """2-D UMAP (cosine metric) of ``x`` coloured by class; a 2-D space is drawn as is."""
    x, labels, note = _subsample(x, labels, max_points, seed)
    if x.shape[1] <= 2:
        xy = x if x.shape[1] == 2 else np.c_[x[:, 0], np.zeros(len(x))]
        kind = "the space itself (2-D)"
    else:
        import umap  # slow import: only when drawn

        xy = umap.UMAP(
            n_neighbors=15, min_dist=0.1, metric="cosine", random_state=seed, n_jobs=1
        ).fit_transform(x)
        kind = "UMAP"
    fig, ax = plt.subplots(figsize=(7, 6))
    _scatter_by_class(ax, xy, labels, class_names, held_out)
    ax.set_title(f"{title}: {kind}, {note}", fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
    ax.legend(markerscale=3, fontsize=7, loc="best", framealpha=0.7)
    return save(fig, path)


def corner_plot(
    x: np.ndarray,
    labels: np.ndarray,
    path: Path,
    class_names=None,
    held_out=(),
    title: str = "",
    max_points: int = 5000,
    seed: int = 0,
) -> Path:
    """Pairwise scatter of every pair of dimensions, per-class histograms on the diagonal."""
    x, labels, note = _subsample(x, labels, max_points, seed)
    d = x.shape[1]
    fig, axes = plt.subplots(d, d, figsize=(1.9 * d + 1.5, 1.9 * d + 1), squeeze=False)
    classes = np.unique(labels)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for i in range(d):
        for j in range(d):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                bins = np.histogram_bin_edges(x[:, i], bins=30)
                for k, c in enumerate(classes):
                    ax.hist(x[labels == c, i], bins=bins, histtype="step", color=cmap(k % cmap.N))
            else:
                _scatter_by_class(ax, x[:, [j, i]], labels, class_names, held_out, s=2)
            ax.tick_params(labelsize=6)
            if i == d - 1:
                ax.set_xlabel(f"z{j}", fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(f"z{i}", fontsize=8)
    if d > 1:
        handles, names = axes[1, 0].get_legend_handles_labels()
        fig.legend(handles, names, loc="upper right", fontsize=7, markerscale=3)
    fig.suptitle(f"{title} ({note})", fontsize=10)
    return save(fig, path)


def confusion_plot(
    labels: np.ndarray, predictions: np.ndarray, path: Path, class_names=None, title: str = ""
) -> Path:
    """Row-normalized confusion matrix (scikit-learn's display)."""
    classes = np.union1d(labels, predictions)
    size = max(5.0, 0.55 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ConfusionMatrixDisplay.from_predictions(
        labels, predictions, labels=classes, display_labels=_names(classes, class_names),
        normalize="true", values_format=".2f", ax=ax, colorbar=False, xticks_rotation=60,
    )  # fmt: skip
    for text in ax.texts:
        text.set_fontsize(7)
    ax.set_title(title, fontsize=10)
    return save(fig, path)


def roc_plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str = "") -> Path:
    """ROC curves; each entry is ``(scores of in-distribution, scores of anomalies)``."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, (neg, pos) in curves.items():
        y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
        RocCurveDisplay.from_predictions(y, np.r_[neg, pos], name=name, ax=ax)
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set_title(title, fontsize=10)
    return save(fig, path)


def two_class_roc_plot(
    curves: dict[str, tuple[np.ndarray, np.ndarray, float]], path: Path, title: str = ""
) -> Path:
    """ROC curves ``(fpr, tpr, auc)`` as physicists draw them: ``eps_B`` against ``eps_S``
    (left), and ``1 / eps_B`` (log) against ``eps_S`` (right, the top-tagging figure)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    for name, (fpr, tpr, auc) in curves.items():
        left.plot(tpr, fpr, lw=1.5, label=f"{name}, AUC {auc:.4f}")
        ok = fpr > 0
        right.plot(tpr[ok], 1.0 / fpr[ok], lw=1.5, label=name)
    left.plot([0, 1], [0, 1], "k:", lw=1)
    left.set_xlabel("signal efficiency $\\epsilon_S$ (true positive rate)")
    left.set_ylabel("background efficiency $\\epsilon_B$ (false positive rate)")
    left.legend(fontsize=8, loc="upper left")
    right.set_yscale("log")
    for eff in (0.3, 0.5):
        right.axvline(eff, color="gray", ls="--", lw=0.8)
    right.set_xlabel("signal efficiency $\\epsilon_S$")
    right.set_ylabel("background rejection $1/\\epsilon_B$")
    right.set_xlim(0, 1)
    right.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return save(fig, path)


def score_histogram(scores: dict[str, np.ndarray], path: Path, title: str = "") -> Path:
    """Histograms of anomaly scores per group (clean, shifted, held-out...)."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bins = np.histogram_bin_edges(np.concatenate(list(scores.values())), bins=50)
    for name, s in scores.items():
        ax.hist(s, bins=bins, histtype="step", density=True, lw=1.5, label=f"{name} (n={len(s)})")
    ax.set_xlabel("Mahalanobis distance to the nearest class")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return save(fig, path)


def embedding_by_value(
    x: np.ndarray,
    labels: np.ndarray,
    values: np.ndarray,
    path: Path,
    class_names=None,
    value_name: str = "value",
    title: str = "test embeddings",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Path:
    """Embeddings ``(N, D)`` on their first two principal components, coloured by class
    (left) and by a per-sample value ``(N,)`` (right: a jet's mass, a signal's SNR)."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    _scatter_by_class(left, xy, np.asarray(labels), class_names, s=3)
    left.legend(fontsize=7, markerscale=3)
    left.set(title=f"{title} (PCA) by class", xlabel="PC 1", ylabel="PC 2")
    shown = right.scatter(*xy.T, s=3, c=values, cmap="viridis", vmin=vmin, vmax=vmax)
    fig.colorbar(shown, ax=right, label=value_name)
    right.set(title=f"by {value_name}", xlabel="PC 1", ylabel="PC 2")
    return save(fig, path)


def training_curves(metrics_csv: Path, path: Path) -> Path | None:
    """One panel per logged quantity of a Lightning ``metrics.csv`` (CSVLogger), by step."""
    table = pd.read_csv(metrics_csv)
    x_name = "step" if "step" in table else table.columns[0]
    columns = [c for c in table.columns if c not in ("epoch", "step") and table[c].notna().any()]
    columns = [c for c in columns if pd.api.types.is_numeric_dtype(table[c])][:9]
    if not columns:
        return None
    cols = min(3, len(columns))
    rows = -(-len(columns) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3 * rows), squeeze=False)
    for ax, name in zip(axes.flat, columns, strict=False):
        part = table[[x_name, name]].dropna()
        ax.plot(part[x_name], part[name], marker="o" if len(part) < 20 else None, ms=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(x_name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    fig.suptitle(f"Training curves ({metrics_csv.parent.name}/{metrics_csv.name})", fontsize=10)
    return save(fig, path)


def save(fig, path: Path, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` at the DPI of every plot here (``tight``: laid out first)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
