"""MiniRocket with a ridge classifier: the series baseline a practitioner runs first, and
no deep learning. Fit on a label split's labeled training series only, scored on the test
set, beside the networks trained on the same labels.

- [0] MiniRocket, Dempster, Schmidt, Webb, KDD 2021, arXiv:2012.08791: 84 fixed kernels
  of length 9 at several dilations, biases from quantiles of the training convolutions,
  the proportion of positive values (PPV) as features (~10,000), then
  ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``.

The transform (:class:`MiniRocket`) is written here, in torch, after [0] and its reference
code (github.com/angus924/minirocket, ``minirocket_multivariate.py`` and
``minirocket_multivariate_variable.py``): the libraries that have it would downgrade the
lock (sktime pins ``pandas < 3.1``; aeon ``numpy < 2.5``, ``scipy < 1.18``, ``numba <
0.64``), which the project's rule keeps out (docs/series.md). What it does, as [0]:

- the 84 kernels of length 9 with three weights 2 and six -1 (every choice of the three
  positions), written ``-sum(taps) + 3 * (3 taps)`` as in the reference code;
- dilations ``floor(2 ** linspace(0, log2((L_max - 1) / 8), 32))`` made unique, each with
  as many features as the points that fell on it (``num_features // 84`` = 119 per
  kernel, 9,996 in all), ``L_max`` the longest training series;
- per (dilation, kernel) a random subset of ``floor(2 ** U(0, log2(min(C, 9) + 1)))``
  channels whose responses are summed (multivariate variant);
- biases: per (dilation, kernel) one random training series, the quantiles of its
  zero-padded convolution output at the low-discrepancy sequence ``(k * phi) mod 1``;
- padding alternating over (dilation, kernel) (index sum even: the "same" output with
  zeros outside the series, odd: the positions where the kernel lies inside it), where
  the training series have one length (the reference's ``minirocket_multivariate.py``);
  where their lengths differ, the "same" output for every kernel, as the reference's
  ``minirocket_multivariate_variable.py`` (``alternate_padding`` chooses either way);
- features: PPV, the fraction of a series' positions whose output exceeds a bias.

Unequal lengths (the variable variant): each series is convolved over its own length (the
batch's zero padding after it plays the kernels' zero padding and its positions are left
out of the PPV, so a series' features do not depend on the batch), not padded to the
longest as the networks' collate pads: zeros after a short series would enter the PPV
(the length itself becomes a feature), where the masked backbones ignore padding.
Departures from [0]:

- On unequal lengths padding does not alternate (the reference's variable-length code;
  alternating reads 5 to 11 points lower on JapaneseVowels' short series, docs/series.md).
  Training series all shorter than 9 steps keep dilation 1 (the formula's exponent would
  be negative).
- Short series: every series, however short (JapaneseVowels has 7 to 29 steps; the
  kernels reach 9, 17 and 25 at dilations 1, 2, 3), is convolved over its own length with
  zeros outside it, as the reference's variable-length code; sktime instead pads series
  shorter than 9 with zeros to 9, not done here (the zeros' positions would be counted in
  the PPV). With alternating padding, a series with no position where a kernel lies inside
  it (fewer than ``8 * dilation + 1`` steps) uses the padded output for that kernel.
- scikit-learn dropped the paper's ``RidgeClassifierCV(normalize=True)``; the features are
  scaled to unit variance (``StandardScaler(with_mean=False)``; the ridge fits the
  intercept) before it instead, as sktime's ``RocketClassifier`` does.
- Random draws from ``numpy.random.default_rng(seed)``, float32 as the reference.

Two ways in: :class:`MiniRocketProbes`, an evaluator UEA/UCR sources name (``evaluate
RUN --splits DIR``, which a project's ``random-init`` stage runs: its ``metrics.json``
then holds ``minirocket``, the comparison's "MiniRocket (no deep learning)" row); and the
command ``python -m ssl_core.series.minirocket --project vowels --data ROOT --splits
DIR``, alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ssl_core.evaluate.evaluators import Evaluator, Plots

#: The comparison's row name.
NAME = "MiniRocket (no deep learning)"
#: ``RidgeClassifierCV``'s alphas, as in [0].
ALPHAS = np.logspace(-3, 3, 10)
#: The kernels' length.
KERNEL_LENGTH = 9
#: The 84 kernels: the positions of the three weights 2 (the other six are -1), ``(84, 3)``.
KERNELS = torch.tensor(list(itertools.combinations(range(KERNEL_LENGTH), 3)))
#: At most this many channels are summed per (dilation, kernel), as in [0].
MAX_CHANNELS = 9
#: The golden ratio: the low-discrepancy sequence of the biases' quantiles.
_PHI = (np.sqrt(5) + 1) / 2


def fit_dilations(
    reference_length: int, num_features: int = 10_000, max_dilations_per_kernel: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """The dilations and the number of features (biases) per kernel at each, as [0].

    Args:
        reference_length: The longest training series' length.
        num_features: The features wanted (rounded down to a multiple of 84).
        max_dilations_per_kernel: Points of the exponential spacing.

    Returns:
        ``(D,)`` dilations (1 up to ``(reference_length - 1) / 8``, exponentially spaced,
        unique) and ``(D,)`` features per kernel at each, summing to ``num_features // 84``.
    """
    per_kernel = num_features // len(KERNELS)
    points = min(per_kernel, max_dilations_per_kernel)
    # a series shorter than the kernel keeps dilation 1 (log2 of < 1 would give 0)
    top = max(np.log2(max(reference_length - 1, 1) / (KERNEL_LENGTH - 1)), 0.0)
    dilations, counts = np.unique(
        np.logspace(0, top, points, base=2).astype(np.int64), return_counts=True
    )
    counts = (counts * (per_kernel / points)).astype(np.int64)
    for i in range(per_kernel - counts.sum()):  # the remainder, round robin
        counts[i % len(counts)] += 1
    return dilations, counts


def _batch(series: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Series ``(C, T_i)`` as ``(N, C + 1, T_max)`` float32, zeros after each series and
    in the last channel (the empty slot of the channel subsets), and ``(N,)`` lengths."""
    lengths = torch.tensor([s.shape[-1] for s in series])
    x = torch.zeros(len(series), series[0].shape[0] + 1, int(lengths.max()))
    for i, s in enumerate(series):
        x[i, :-1, : s.shape[-1]] = torch.from_numpy(np.asarray(s, dtype=np.float32))
    return x, lengths


def _convolve(x: torch.Tensor, dilation: int, channels: torch.Tensor, rows=None) -> torch.Tensor:
    """The 84 kernels' zero-padded ("same") outputs, each summed over its channels.

    Elementwise sums in a fixed order, no reduction whose order depends on the shapes:
    a series' outputs are the same bits whatever the batch's padding.

    Args:
        x: ``(N, C + 1, T)`` from :func:`_batch`.
        dilation: The kernels' dilation.
        channels: ``(84, 9)`` channel indices per kernel, ``C`` (the zero channel) in the
            unused slots.
        rows: ``None``: every series through every kernel; or ``(84,)`` the series each
            kernel runs on.

    Returns:
        ``(N, 84, T)``, or ``(84, T)`` with ``rows``.
    """
    t = x.shape[-1]
    taps = x.new_zeros((KERNEL_LENGTH, *x.shape))  # taps[k, ..., t] = x[..., t + (k - 4) d]
    for k in range(KERNEL_LENGTH):
        shift = (k - KERNEL_LENGTH // 2) * dilation
        if 0 <= shift < t:
            taps[k, ..., : t - shift] = x[..., shift:]
        elif -t < shift < 0:
            taps[k, ..., -shift:] = x[..., : t + shift]
    alpha = -taps[0]  # the six -1 as -sum(taps) + 3 * (the three taps of the 2s)
    for k in range(1, KERNEL_LENGTH):
        alpha = alpha - taps[k]
    gamma = 3 * taps
    index = torch.arange(len(x))[:, None] if rows is None else rows
    out = 0
    for slot in range(channels.shape[1]):
        c = channels[:, slot]
        out = out + alpha[index, c]
        for j in range(3):
            out = out + gamma[KERNELS[:, j], index, c]
    return out


def _quantiles(values: torch.Tensor, lengths: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Linear-interpolation quantiles (``np.quantile``'s default) of each row's first
    ``lengths`` values: ``values (R, T)``, ``lengths (R,)``, ``q (R, Q)`` -> ``(R, Q)``."""
    positions = torch.arange(values.shape[1])
    ordered = values.masked_fill(positions >= lengths[:, None], float("inf")).sort(1).values
    at = q.double() * (lengths[:, None] - 1)
    low = at.floor().long()
    high = torch.minimum(low + 1, lengths[:, None] - 1)
    a, b = ordered.gather(1, low).double(), ordered.gather(1, high).double()
    return (a + (b - a) * (at - low)).float()


class MiniRocket:
    """The MiniRocket transform [0] of multivariate series of any lengths.

    Args:
        num_features: Features wanted (``num_features // 84 * 84`` are made: 9,996).
        max_dilations_per_kernel: Points of the dilations' exponential spacing.
        seed: Seeds the channel subsets and the biases' training series.
        alternate_padding: Alternate the padded and the inside outputs over (dilation,
            kernel); ``None``: where the training series have one length.
        chunk: Elements of the largest temporary of :meth:`transform` (series are
            transformed in batches under it).
    """

    def __init__(
        self,
        num_features: int = 10_000,
        max_dilations_per_kernel: int = 32,
        seed: int = 0,
        alternate_padding: bool | None = None,
        chunk: int = 50_000_000,
    ):
        self.num_features, self.max_dilations = num_features, max_dilations_per_kernel
        self.seed, self.alternate_padding, self.chunk = seed, alternate_padding, chunk

    def fit(self, series: Sequence[np.ndarray]) -> MiniRocket:
        """Draw the channel subsets and fit the biases on training series.

        Args:
            series: Training series, each ``(C, T_i)`` (lengths may differ).

        Returns:
            ``self``, with ``dilations (D,)``, ``counts (D,)`` (features per kernel at
            each), ``channels`` (per dilation ``(84, 9)``), ``biases`` (per dilation
            ``(84, counts[d])``) and ``alternate`` (whether padding alternates).
        """
        rng = np.random.default_rng(self.seed)
        x, lengths = _batch(series)
        self.alternate = (
            bool((lengths == lengths[0]).all())
            if self.alternate_padding is None
            else self.alternate_padding
        )
        num_channels = x.shape[1] - 1
        self.num_channels = num_channels
        self.dilations, self.counts = fit_dilations(
            int(lengths.max()), self.num_features, self.max_dilations
        )
        quantiles = (np.arange(1, len(KERNELS) * self.counts.sum() + 1) * _PHI) % 1
        top = np.log2(min(num_channels, MAX_CHANNELS) + 1)
        self.channels, self.biases = [], []
        start = 0
        for dilation, count in zip(self.dilations, self.counts, strict=True):
            sizes = (2 ** rng.uniform(0, top, len(KERNELS))).astype(np.int64)
            channels = np.full((len(KERNELS), MAX_CHANNELS), num_channels)
            for row, size in zip(channels, sizes, strict=True):
                row[:size] = rng.choice(num_channels, size, replace=False)
            channels = torch.from_numpy(channels)
            rows = torch.from_numpy(rng.integers(len(series), size=len(KERNELS)))
            out = _convolve(x[rows], int(dilation), channels, torch.arange(len(KERNELS)))
            q = torch.from_numpy(quantiles[start : start + len(KERNELS) * count])
            self.biases.append(_quantiles(out, lengths[rows], q.view(len(KERNELS), count)))
            self.channels.append(channels)
            start += len(KERNELS) * count
        return self

    def transform(self, series: Sequence[np.ndarray]) -> np.ndarray:
        """PPV features of series, each over its own length.

        Args:
            series: Series, each ``(C, T_i)``, ``C`` as in :meth:`fit`.

        Returns:
            ``(N, 84 * counts.sum())`` float32 in ``[0, 1]``, ordered by dilation, kernel,
            bias.
        """
        if series and series[0].shape[0] != self.num_channels:
            raise ValueError(
                f"series have {series[0].shape[0]} channels, fit on {self.num_channels}"
            )
        longest = max(s.shape[-1] for s in series)
        per_series = longest * max(len(KERNELS) * int(self.counts.max()), 10 * self.num_channels)
        step = max(1, self.chunk // per_series)
        return np.concatenate(
            [self._transform(series[i : i + step]) for i in range(0, len(series), step)]
        )

    def _transform(self, series: Sequence[np.ndarray]) -> np.ndarray:
        x, lengths = _batch(series)
        positions = torch.arange(x.shape[-1])
        padded = positions < lengths[:, None]  # (N, T)
        kernels = torch.arange(len(KERNELS))
        features = []
        for d, (dilation, channels, biases) in enumerate(
            zip(self.dilations, self.channels, self.biases, strict=True)
        ):
            out = _convolve(x, int(dilation), channels)  # (N, 84, T)
            reach = (KERNEL_LENGTH // 2) * int(dilation)
            inside = (positions >= reach) & (positions < lengths[:, None] - reach)
            inside = torch.where(inside.any(1, keepdim=True), inside, padded)  # short series
            mask = torch.where(
                (((kernels + d) % 2 == 1) & self.alternate)[None, :, None],
                inside[:, None],
                padded[:, None],
            )
            hits = ((out[:, :, None] > biases[None, :, :, None]) & mask[:, :, None]).sum(-1)
            features.append((hits / mask.sum(-1, keepdim=True)).flatten(1))
        return torch.cat(features, 1).numpy()


def minirocket_classify(
    train: Sequence[np.ndarray],
    train_labels: np.ndarray,
    test: Sequence[np.ndarray],
    seed: int = 0,
    alternate_padding: bool | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit MiniRocket and the ridge classifier on ``train``, predict ``test``.

    Args:
        train: Training series, each ``(C, T_i)`` (lengths may differ).
        train_labels: ``(N,)`` their classes.
        test: Test series, each ``(C, T_j)``.
        seed: The transform's seed (its channel subsets and biases' training series).
        alternate_padding: :class:`MiniRocket`'s (``None``: where the lengths are equal).

    Returns:
        The predicted classes ``(M,)`` and facts of the fit: ``cpu_seconds`` (process
        time of transform, fit and predict), ``num_features``, ``alpha``.
    """
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.process_time()
    transform = MiniRocket(seed=seed, alternate_padding=alternate_padding).fit(train)
    features = transform.transform(train)
    classifier = make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas=ALPHAS))
    classifier.fit(features, np.asarray(train_labels))
    predicted = classifier.predict(transform.transform(test))
    facts = {
        "cpu_seconds": time.process_time() - start,
        "num_features": int(features.shape[1]),
        "alpha": float(classifier[-1].alpha_),
    }
    return predicted, facts


def split_scores(
    source,
    root: str | Path,
    splits: str | Path | Sequence[str | Path],
    seed: int = 0,
    log: Callable[[str], None] = print,
    alternate_padding: bool | None = None,
) -> dict[str, dict]:
    """MiniRocket on each label split's labeled training series, scored on the test
    series whose class they hold (as the frozen probes are).

    Args:
        source: A series source (``UEASeries`` or a project's), read at ``root``.
        root: The data root.
        splits: A folder of split files (``*.json``) or the files.
        seed: The transform's seed.
        log: Where progress lines go.
        alternate_padding: :class:`MiniRocket`'s (``None``: where the lengths are equal).

    Returns:
        Per split name: ``fraction``, ``seed``, ``num_labeled``, ``num_test``, ``top1``,
        ``cpu_seconds``, ``num_features``, ``alpha``.
    """
    from ssl_core.splits import LabelSplit

    root = Path(root)
    folder = Path(splits) if isinstance(splits, (str, Path)) else None
    files = sorted(folder.glob("*.json")) if folder else [Path(p) for p in splits]
    test = source.list_samples(root, "test")
    test_series = [source.read(root, path) for path, _ in test]
    test_labels = np.array([label for _, label in test])
    out: dict[str, Any] = {}
    for path in files:
        split = LabelSplit.load(path)
        labels = np.array([label for _, label in split.labeled])
        series = [source.read(root, p) for p, _ in split.labeled]  # labeled only
        known = np.isin(test_labels, np.unique(labels))
        predicted, facts = minirocket_classify(
            series,
            labels,
            [s for s, k in zip(test_series, known, strict=True) if k],
            seed,
            alternate_padding,
        )
        top1 = float(np.mean(predicted == test_labels[known]))
        out[path.stem] = {
            "fraction": split.fraction, "seed": split.seed, "num_labeled": len(labels),
            "num_test": int(known.sum()), "top1": top1, **facts,
        }  # fmt: skip
        log(
            f"split {path.stem}: MiniRocket on {len(labels)} labels, test top-1 {top1:.3f} "
            f"({facts['cpu_seconds']:.2f} s CPU)"
        )
    return out


def run_source(meta: dict):
    """The source of an embeddings run (its ``meta.json``): the project's datamodule
    class, built on the run's data root; ``None`` when it cannot be built alone."""
    import importlib

    module, _, name = (meta.get("datamodule") or "").rpartition(".")
    try:
        datamodule = getattr(importlib.import_module(module), name)(root=meta.get("data_root"))
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    return datamodule.source


class MiniRocketProbes(Evaluator):
    """``metrics["minirocket"]``: :func:`split_scores` of every split of ``--splits``,
    on the raw series of the run's data root (the comparison's MiniRocket row). Skipped,
    with a line, where the run's source cannot be rebuilt (a datamodule that takes its
    source as an argument)."""

    needs = ("embeddings", "splits")

    def __call__(self, run) -> tuple[dict, Plots]:
        source = run_source(run.meta)
        if source is None:
            run.log(f"no MiniRocket row: cannot rebuild the source of {run.meta.get('datamodule')}")
            return {}, {}
        scores = split_scores(
            source, run.meta["data_root"], run.settings["splits"], run.settings["seed"], run.log
        )
        return {"minirocket": scores}, {}


def main(args: list[str] | None = None) -> None:
    """``python -m ssl_core.series.minirocket --project P --data ROOT --splits DIR``."""
    from ssl_core.project import installed_projects, project_source

    parser = argparse.ArgumentParser(
        prog="python -m ssl_core.series.minirocket", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--project", required=True, help="a series project (vowels, ...)")
    parser.add_argument("--data", type=Path, help="its data root (default: the source's)")
    parser.add_argument("--splits", nargs="+", type=Path, required=True,
                        help="a folder of split files, or split files")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="MiniRocket's seed")
    parser.add_argument("--alternate-padding", action="store_true", default=None,
                        help="alternate padding over the kernels also for unequal lengths")  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the scores as JSON here")
    ns = parser.parse_args(args)
    projects = installed_projects()
    if ns.project not in projects:
        parser.error(f"--project {ns.project}: installed projects are {sorted(projects)}")
    source = project_source(projects[ns.project])
    root = ns.data or source.default_root
    if root is None:
        parser.error("--data: this source has no default root")
    splits = ns.splits[0] if len(ns.splits) == 1 and ns.splits[0].is_dir() else ns.splits
    scores = split_scores(source, root, splits, ns.seed, alternate_padding=ns.alternate_padding)
    runs = [v for v in scores.values() if isinstance(v, dict)]
    if len(runs) > 1:
        top1 = np.array([r["top1"] for r in runs])
        cpu = np.array([r["cpu_seconds"] for r in runs])
        print(
            f"{len(runs)} splits: test top-1 {top1.mean():.3f} ± {top1.std(ddof=1):.3f}, "
            f"{cpu.mean():.2f} s CPU per split"
        )
    if ns.out:
        ns.out.write_text(json.dumps(scores, indent=2) + "\n")


if __name__ == "__main__":
    main()
