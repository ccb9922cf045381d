"""Detection efficiency against SNR at a fixed false-alarm rate, GWAK's figure of merit.

Scores are anomaly scores (higher = more anomalous, e.g. a Mahalanobis or kNN distance in
the embedding). The threshold is set on background windows alone so that at most a
fraction ``far`` of them pass (e.g. 1 per 1,000 windows); the efficiency in an SNR bin is
the fraction of signal windows of that bin whose score passes it.

- [0] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024),
  https://arxiv.org/abs/2309.11537 (efficiency vs SNR at a fixed false-alarm rate)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_core.evaluate.evaluators import Evaluator


@dataclass
class Efficiency:
    """One efficiency curve.

    Attributes:
        threshold: Score a window must exceed to be detected.
        far: The false-alarm rate asked for (per background window).
        measured_far: The fraction of background windows above the threshold (<= ``far``).
        bin_edges: SNR bin edges ``(K + 1,)``.
        efficiency: Detected fraction per bin ``(K,)`` (NaN for an empty bin).
        error: Its binomial standard error ``sqrt(e (1 - e) / n)`` ``(K,)``.
        counts: Signal windows per bin ``(K,)``.
    """

    threshold: float
    far: float
    measured_far: float
    bin_edges: np.ndarray
    efficiency: np.ndarray
    error: np.ndarray
    counts: np.ndarray

    @property
    def bin_centers(self) -> np.ndarray:
        return 0.5 * (self.bin_edges[1:] + self.bin_edges[:-1])


def threshold_at_far(background: np.ndarray, far: float = 1e-3) -> float:
    """The score above which at most ``far`` of the background windows lie.

    With ``n`` windows it is the ``floor(far n) + 1``-th largest score (detection:
    score strictly above it). With fewer than ``1 / far`` windows that is the largest
    background score, and the false-alarm rate is only known to be below ``1 / n``.

    Raises:
        ValueError: No background scores, or ``far`` outside ``(0, 1)``.
    """
    background = np.asarray(background, dtype=np.float64).ravel()
    if background.size == 0:
        raise ValueError("no background scores to set a threshold on")
    if not 0 < far < 1:
        raise ValueError(f"far must be in (0, 1), got {far}")
    k = int(np.floor(far * background.size))
    return float(np.sort(background)[::-1][k])


def efficiency_vs_snr(
    background: np.ndarray,
    signal: np.ndarray,
    snr: np.ndarray,
    far: float = 1e-3,
    bins: int | np.ndarray = 10,
) -> Efficiency:
    """Detection efficiency per SNR bin at the threshold of false-alarm rate ``far``.

    Args:
        background: Scores of background windows ``(N_b,)``.
        signal: Scores of signal windows ``(N_s,)``.
        snr: Their SNRs ``(N_s,)``.
        far: False alarms per background window (1e-3: 1 per 1,000 windows).
        bins: Number of equal SNR bins over the SNRs' range, or the edges.

    Returns:
        The curve (:class:`Efficiency`).
    """
    background = np.asarray(background, dtype=np.float64).ravel()
    signal = np.asarray(signal, dtype=np.float64).ravel()
    snr = np.asarray(snr, dtype=np.float64).ravel()
    if signal.shape != snr.shape:
        raise ValueError(f"{signal.size} signal scores but {snr.size} SNRs")
    threshold = threshold_at_far(background, far)
    edges = np.histogram_bin_edges(snr, bins) if np.ndim(bins) == 0 else np.asarray(bins, float)
    which = np.digitize(snr, edges[1:-1])  # 0 .. K-1; the last bin includes its right edge
    inside = (snr >= edges[0]) & (snr <= edges[-1])
    k = len(edges) - 1
    counts = np.bincount(which[inside], minlength=k)
    hits = np.bincount(which[inside], weights=(signal[inside] > threshold), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = hits / counts
        err = np.sqrt(eff * (1 - eff) / counts)
    return Efficiency(
        threshold=threshold,
        far=far,
        measured_far=float(np.mean(background > threshold)),
        bin_edges=edges,
        efficiency=eff,
        error=err,
        counts=counts,
    )


def plot_efficiency(
    curves: Mapping[str, Efficiency] | Efficiency,
    folder: str | Path,
    filename: str = "efficiency_vs_snr.png",
    title: str | None = None,
) -> Path:
    """Plot efficiency against SNR (one line with error bars per curve) to a PNG.

    Args:
        curves: One curve, or curves by label (e.g. one per signal class or method).
        folder: Where to write (made if missing).
        filename: The PNG's name; ``efficiency_`` is put in front of a name without
            ``efficiency`` in it, so the figure is always found by that word.
        title: Title (default: the false-alarm rate).

    Returns:
        The PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(curves, Efficiency):
        curves = {"signal": curves}
    if "efficiency" not in filename:
        filename = f"efficiency_{filename}"
    if not filename.endswith(".png"):
        filename += ".png"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for label, curve in curves.items():
        ax.errorbar(
            curve.bin_centers,
            curve.efficiency,
            yerr=curve.error,
            marker="o",
            ms=3,
            capsize=2,
            label=label,
        )
    far = next(iter(curves.values())).far if curves else None
    ax.set_xlabel("optimal SNR")
    ax.set_ylabel("detection efficiency")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title or (f"false-alarm rate {far:g} per background window" if far else ""))
    if len(curves) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = folder / filename
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def held_out_efficiency(
    scores: np.ndarray,
    labels: np.ndarray,
    snr: np.ndarray,
    held_out: list[int],
    class_names: list[str] | None,
    folder: str | Path,
    far: float = 1e-3,
    bins: np.ndarray | None = None,
) -> tuple[dict, Path]:
    """GWAK's figure for ``evaluate``: each held-out class's efficiency against SNR at
    false-alarm rate ``far``, the threshold set on the noise-only test windows (SNR 0).

    Args:
        scores: Anomaly scores of the test windows ``(N,)`` (higher: more anomalous).
        labels: Their classes ``(N,)``.
        snr: Their SNRs ``(N,)`` (0: background).
        held_out: Classes training never saw (the anomalies).
        class_names: Names by label (``None``: the numbers).
        folder: Where the plot goes (``efficiency_vs_snr.png``).
        far: False alarms per background window.
        bins: SNR bin edges (default: 5 bins of 5 from 5 to 30, the generator's range).

    Returns:
        ``metrics.json``'s ``efficiency`` entry (per class: SNR bin edges, efficiency,
        counts; the threshold and measured false-alarm rate) and the plot's path.

    Raises:
        ValueError: No test window has SNR 0 (nothing to set the threshold on).
    """
    scores, labels, snr = (np.asarray(a) for a in (scores, labels, snr))
    background = scores[snr == 0]
    bins = np.array([5.0, 10.0, 15.0, 20.0, 25.0, 30.0]) if bins is None else bins
    curves = {}
    for c in held_out:
        pick = labels == c
        name = class_names[c] if class_names and c < len(class_names) else str(c)
        curves[name] = efficiency_vs_snr(background, scores[pick], snr[pick], far, bins)
    first = next(iter(curves.values()))
    entry = {
        "far": far,
        "threshold": first.threshold,
        "measured_far": first.measured_far,
        "background_windows": int(background.size),
        "snr_bins": first.bin_edges.tolist(),
        "classes": {
            name: {
                "efficiency": [None if np.isnan(e) else float(e) for e in c.efficiency],
                "counts": c.counts.tolist(),
            }
            for name, c in curves.items()
        },
    }
    title = f"held-out classes; FAR {far:g} on {background.size} noise windows"
    return entry, plot_efficiency(curves, folder, title=title)


class EfficiencyVsSNR(Evaluator):
    """``evaluate``'s figure of a GWAK run (the source names it in its ``evaluators``):
    each held-out class's efficiency against SNR from the headline space's anomaly scores
    (:func:`held_out_efficiency`), into ``metrics.json``'s ``efficiency`` and
    ``plots/efficiency_vs_snr.png``."""

    needs = ("embeddings", "held_out", "column:snr")

    def __call__(self, run) -> tuple[dict, dict[str, Path]]:
        entry, plot = held_out_efficiency(
            run.arrays[run.space]["scores_test"],
            run.test.labels,
            run.column("snr"),
            run.held_out,
            run.class_names,
            run.plot_dir,
        )
        return {"efficiency": entry}, {"Efficiency vs SNR": plot}
