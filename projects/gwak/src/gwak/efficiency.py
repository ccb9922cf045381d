"""Detection efficiency against SNR at a fixed false-alarm rate, GWAK's figure of merit.

Scores are anomaly scores (higher = more anomalous, e.g. a Mahalanobis distance in the
embedding). The threshold is set on background windows alone: as in real strain and in
GWAK, the background is noise and glitches (:data:`BACKGROUND_CLASSES`). A false-alarm
rate of ``R`` per hour lets ``floor(R N window_s / 3600)`` of ``N`` background windows
pass. The efficiency in an SNR bin is the fraction of signal windows of that bin whose
score passes the threshold.

- [0] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024),
  https://arxiv.org/abs/2309.11537 (efficiency vs SNR at a fixed false-alarm rate)
- [1] Lee et al., A simple unified framework for detecting out-of-distribution samples
  and adversarial attacks, NeurIPS 2018, https://arxiv.org/abs/1807.03888 (the
  Mahalanobis score)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_core.evaluate.evaluators import Evaluator

#: The classes a detector must not fire on: noise alone and noise with a glitch.
BACKGROUND_CLASSES = ("background", "glitch")
#: The false-alarm rate of ``evaluate``'s figure, per hour of background: with 2,000
#: background test windows of 0.5 s (1,000 noise, 1,000 glitch; 0.28 h) it lets 2 pass.
FAR_PER_HOUR = 10.0
SNR_BINS = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
#: How an efficiency curve is drawn (``ax.errorbar``'s style), here and in :mod:`gwak.compare`.
CURVE_STYLE = {"marker": "o", "ms": 3, "capsize": 2}


def far_per_window(far_per_hour: float, window_s: float) -> float:
    """False alarms per background window of ``window_s`` seconds at ``far_per_hour``."""
    return far_per_hour * window_s / 3600.0


@dataclass
class Efficiency:
    """One efficiency curve.

    Attributes:
        threshold: Score a window must exceed to be detected.
        measured_far: The fraction of background windows above the threshold (<= ``far``).
        bin_edges: SNR bin edges ``(K + 1,)``.
        efficiency: Detected fraction per bin ``(K,)`` (NaN for an empty bin).
        error: Its binomial standard error ``sqrt(e (1 - e) / n)`` ``(K,)``.
        counts: Signal windows per bin ``(K,)``.
    """

    threshold: float
    measured_far: float
    bin_edges: np.ndarray
    efficiency: np.ndarray
    error: np.ndarray
    counts: np.ndarray


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
    """Detection efficiency per SNR bin of signal windows (scores ``signal`` ``(N_s,)``, SNRs
    ``snr`` ``(N_s,)``) at the threshold of ``far`` false alarms per background window
    (scores ``background`` ``(N_b,)``); ``bins``: a number of equal SNR bins, or the edges."""
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
    return Efficiency(threshold, float(np.mean(background > threshold)), edges, eff, err, counts)


def plot_efficiency(
    curves: Mapping[str, Efficiency], folder: str | Path, title: str, dashed: tuple[str, ...] = ()
) -> Path:
    """Plot efficiency against SNR (a line with error bars per curve, by label) to
    ``folder/efficiency_vs_snr.png``; ``dashed``: labels drawn dashed (the baseline's)."""
    from ssl_core.evaluate.plots import plt, save

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, curve in curves.items():
        x = 0.5 * (curve.bin_edges[1:] + curve.bin_edges[:-1])
        ls = "--" if label in dashed else "-"
        ax.errorbar(x, curve.efficiency, yerr=curve.error, ls=ls, label=label, **CURVE_STYLE)
    ax.set_xlabel("network optimal SNR")
    ax.set_ylabel("detection efficiency")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend(fontsize=7)
    return save(fig, Path(folder) / "efficiency_vs_snr.png")


def signal_efficiency(
    scores: np.ndarray,
    labels: np.ndarray,
    snr: np.ndarray,
    class_names: list[str],
    signals: list[str],
    window_s: float,
    far_per_hour: float = FAR_PER_HOUR,
    background_classes: tuple[str, ...] = BACKGROUND_CLASSES,
) -> tuple[dict, dict[str, Efficiency]]:
    """Each of the ``signals`` classes' efficiency per SNR bin (:data:`SNR_BINS`) at
    ``far_per_hour`` on a background of ``background_classes``, and its AUROC against
    that background; ``scores``, ``labels``, ``snr``: of the test windows ``(N,)``,
    ``window_s``: a window's length (s).

    Returns:
        The numbers (``threshold``, ``false_alarms`` allowed, ``measured_far_per_hour``;
        per class ``efficiency``, ``counts``, ``auroc``) and the curves by class.

    Raises:
        ValueError: No test window of the background classes.
    """
    from ssl_core.evaluate.metrics import auroc

    scores, labels, snr = (np.asarray(a) for a in (scores, labels, snr))
    is_bg = np.isin(labels, [class_names.index(c) for c in background_classes])
    if not is_bg.any():
        raise ValueError(f"no test window of the background classes {background_classes}")
    background = scores[is_bg]
    bins = np.asarray(SNR_BINS)
    far = far_per_window(far_per_hour, window_s)
    curves, classes = {}, {}
    for name in signals:
        pick = labels == class_names.index(name)
        curve = efficiency_vs_snr(background, scores[pick], snr[pick], far, bins)
        curves[name] = curve
        classes[name] = {
            "efficiency": [None if np.isnan(e) else float(e) for e in curve.efficiency],
            "counts": curve.counts.tolist(),
            "auroc": auroc(background, scores[pick]) if pick.any() else None,
        }
    threshold = threshold_at_far(background, far)
    entry = {
        "threshold": threshold,
        "false_alarms": int(np.floor(far * background.size)),
        "measured_far_per_hour": float(
            np.sum(background > threshold) / (background.size * window_s / 3600.0)
        ),
        "classes": classes,
    }
    return entry, curves


def background_distance(run, space: str, names: list[str]) -> np.ndarray:
    """Test windows' Mahalanobis distance ``(N,)`` in ``space`` of ``evaluate``'s ``run``
    to the nearest background class (Gaussians with a tied covariance fit on the labeled
    training windows of :data:`BACKGROUND_CLASSES`,
    :class:`~ssl_core.evaluate.metrics.GaussianScorer`): how unlike noise and glitches a
    window is, GWAK's question."""
    from ssl_core.evaluate.metrics import GaussianScorer

    fit = run.fit & np.isin(run.train.labels, [names.index(c) for c in BACKGROUND_CLASSES])
    if not fit.any():
        raise ValueError(f"no labeled training window of {BACKGROUND_CLASSES} to fit on")
    x = run.train.space(space)
    scorer = GaussianScorer().fit(x[fit], run.train.labels[fit])
    return scorer.score(run.test.space(space))


class EfficiencyVsSNR(Evaluator):
    """``evaluate``'s figure of a GWAK run (the source names it in its ``evaluators``):
    GWAK's test, signals against a background of noise and glitches.

    The space's score (:func:`background_distance`) and the baseline's (the test windows'
    ``excess_power`` column, :mod:`gwak.excess_power`) are thresholded at
    :data:`FAR_PER_HOUR` on the same background test windows; each signal class gets its
    efficiency per SNR bin and its AUROC against that background
    (:func:`signal_efficiency`). Written to ``metrics.json``'s ``efficiency`` (with
    ``baseline``, the excess power's) and ``plots/efficiency_vs_snr.png``.
    """

    needs = ("embeddings", "column:snr")

    def __call__(self, run) -> tuple[dict, dict[str, Path]]:
        from gwak.strain import CLASSES, GWConfig

        names = list(run.class_names or CLASSES)
        window_s = GWConfig().duration  # the GWAK source's windows
        labels, snr = run.test.labels, run.column("snr")
        signals = [
            c for c in names if c not in BACKGROUND_CLASSES and np.any(labels == names.index(c))
        ]
        scores = background_distance(run, run.space, names)
        space, curves = signal_efficiency(scores, labels, snr, names, signals, window_s)
        n_bg = int(np.isin(labels, [names.index(c) for c in BACKGROUND_CLASSES]).sum())
        entry = {
            "far_per_hour": FAR_PER_HOUR,
            "window_s": window_s,
            "background_classes": list(BACKGROUND_CLASSES),
            "background_windows": n_bg,
            "background_live_time_s": n_bg * window_s,
            "snr_bins": list(SNR_BINS),
            "held_out_classes": [names[c] for c in run.held_out],
            "score": f"Mahalanobis distance to the nearest of {list(BACKGROUND_CLASSES)} ({run.space})",
            **space,
        }
        dashed = ()
        baseline = run.column("excess_power")
        if baseline is None:
            run.log("no excess_power column in test.npz: no baseline (predict again)")
        else:
            base, base_curves = signal_efficiency(baseline, labels, snr, names, signals, window_s)
            entry["baseline"] = {"name": "coincident excess power", **base}
            dashed = tuple(f"excess power: {c}" for c in base_curves)
            curves.update({f"excess power: {c}": v for c, v in base_curves.items()})
        title = (
            f"FAR {FAR_PER_HOUR:g}/h on {n_bg} noise+glitch windows "
            f"({n_bg * window_s / 3600:.2f} h)"
        )
        plot = plot_efficiency(curves, run.plot_dir, title=title, dashed=dashed)
        return {"efficiency": entry}, {"Efficiency vs SNR": plot}
