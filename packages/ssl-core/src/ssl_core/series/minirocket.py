"""MiniRocket with a ridge classifier: the series baseline without deep learning, fit on a
label split's labeled training series only and scored on the test set.

- [0] MiniRocket, Dempster, Schmidt, Webb, KDD 2021, arXiv:2012.08791: 84 fixed kernels
  of length 9 at several dilations, biases from quantiles of the training convolutions,
  the proportion of positive values (PPV) as features (~10,000), then
  ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``.

Our own torch transform (its departures from [0], the ways in: docs/series.md,
"MiniRocket, the baseline without deep learning").
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ssl_core.evaluate.evaluators import Evaluator, Plots
from ssl_core.series.modality import pad_series

ALPHAS = np.logspace(-3, 3, 10)
KERNEL_LENGTH = 9
#: The 84 kernels: the positions of the three weights 2 (the other six are -1), ``(84, 3)``.
KERNELS = torch.tensor(list(itertools.combinations(range(KERNEL_LENGTH), 3)))
#: At most this many channels are summed per (dilation, kernel), as in [0].
MAX_CHANNELS = 9
#: The golden ratio: the low-discrepancy sequence of the biases' quantiles.
_PHI = (np.sqrt(5) + 1) / 2
#: Features wanted (``NUM_FEATURES // 84 * 84`` are made: 9,996) and points of the
#: dilations' exponential spacing, as in [0].
NUM_FEATURES, MAX_DILATIONS = 10_000, 32
#: Elements of the largest temporary of :meth:`MiniRocket.transform`.
CHUNK = 50_000_000


def fit_dilations(reference_length: int) -> tuple[np.ndarray, np.ndarray]:
    """The dilations ``(D,)`` (1 up to ``(reference_length - 1) / 8``, exponentially
    spaced, unique; ``reference_length`` the longest training series') and the features
    per kernel at each ``(D,)``, summing to ``NUM_FEATURES // 84``, as [0]."""
    per_kernel = NUM_FEATURES // len(KERNELS)
    points = min(per_kernel, MAX_DILATIONS)
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
    view = pad_series(series)
    return F.pad(view["series"], (0, 0, 0, 1)), view["mask"].sum(1)


def _convolve(x: torch.Tensor, dilation: int, channels: torch.Tensor, rows=None) -> torch.Tensor:
    """The 84 kernels' zero-padded ("same") outputs ``(N, 84, T)`` of ``x`` ``(N, C + 1,
    T)``, each summed over its ``channels`` ``(84, 9)`` (``C``, the zero channel, in unused
    slots); with ``rows`` ``(84,)``, kernel ``k`` on series ``rows[k]`` only: ``(84, T)``.

    Elementwise sums in a fixed order, no reduction whose order depends on the shapes:
    a series' outputs are the same bits whatever the batch's padding."""
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
        seed: Seeds the channel subsets and the biases' training series.
        alternate_padding: Alternate the padded and the inside outputs over (dilation,
            kernel); ``None``: where the training series have one length.
    """

    def __init__(self, seed: int = 0, alternate_padding: bool | None = None):
        self.seed, self.alternate_padding = seed, alternate_padding

    def fit(self, series: Sequence[np.ndarray]) -> MiniRocket:
        """Draw the channel subsets and fit the biases on training series ``[(C, T_i)]``:
        ``dilations``, ``counts``, ``channels`` and ``biases`` (per dilation ``(84, 9)``
        and ``(84, counts[d])``), ``alternate``."""
        rng = np.random.default_rng(self.seed)
        x, lengths = _batch(series)
        equal = bool((lengths == lengths[0]).all())
        self.alternate = equal if self.alternate_padding is None else self.alternate_padding
        self.num_channels = num_channels = x.shape[1] - 1
        self.dilations, self.counts = fit_dilations(int(lengths.max()))
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
        """PPV features ``(N, 84 * counts.sum())`` float32 in ``[0, 1]`` (by dilation,
        kernel, bias) of series ``[(C, T_i)]``, each over its own length."""
        if series and series[0].shape[0] != self.num_channels:
            raise ValueError(
                f"series have {series[0].shape[0]} channels, fit on {self.num_channels}"
            )
        longest = max(s.shape[-1] for s in series)
        per_series = longest * max(len(KERNELS) * int(self.counts.max()), 10 * self.num_channels)
        step = max(1, CHUNK // per_series)
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
            odd = (((kernels + d) % 2 == 1) & self.alternate)[None, :, None]
            mask = torch.where(odd, inside[:, None], padded[:, None])
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
    """Fit MiniRocket and the ridge classifier on series ``train`` (``[(C, T_i)]``) and
    their ``train_labels`` ``(N,)``; return the classes predicted for ``test`` ``(M,)`` and
    ``cpu_seconds`` (process time of transform, fit and predict), ``num_features``,
    ``alpha``."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.process_time()
    transform = MiniRocket(seed=seed, alternate_padding=alternate_padding).fit(train)
    features = transform.transform(train)
    # scaled features, where the paper's ridge had normalize=True
    classifier = make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas=ALPHAS))
    classifier.fit(features, np.asarray(train_labels))
    predicted = classifier.predict(transform.transform(test))
    return predicted, {
        "cpu_seconds": time.process_time() - start,
        "num_features": int(features.shape[1]),
        "alpha": float(classifier[-1].alpha_),
    }


def split_scores(
    source,
    root: str | Path,
    splits: str | Path | Sequence[str | Path],
    seed: int = 0,
    log: Callable[[str], None] = print,
    alternate_padding: bool | None = None,
) -> dict[str, dict]:
    """MiniRocket on each label split's labeled training series (``splits``: a folder of
    ``*.json`` split files, or the files) of ``source`` at ``root``, scored on the test
    series whose class they hold (as the frozen probes are). Per split name:
    ``fraction``, ``seed``, ``num_labeled``, ``num_test``, ``top1`` and the fit's facts."""
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
        kept = [test_series[i] for i in np.flatnonzero(known)]
        predicted, facts = minirocket_classify(series, labels, kept, seed, alternate_padding)
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


class MiniRocketProbes(Evaluator):
    """``metrics["minirocket"]``: :func:`split_scores` of every split of ``--splits``,
    on the raw series of the run's data root (the comparison's MiniRocket row). Skipped,
    with a line, where the run's source cannot be rebuilt (a datamodule that takes its
    source as an argument)."""

    needs = ("embeddings", "splits")

    def __call__(self, run) -> tuple[dict, Plots]:
        module, _, name = (run.meta.get("datamodule") or "").rpartition(".")
        try:
            datamodule_class = getattr(importlib.import_module(module), name)
            datamodule = datamodule_class(root=run.meta.get("data_root"))
        except (ImportError, AttributeError, TypeError, ValueError):
            run.log(f"no MiniRocket row: cannot rebuild the source of {run.meta.get('datamodule')}")
            return {}, {}
        splits, seed = run.settings["splits"], run.settings["seed"]
        scores = split_scores(datamodule.source, run.meta["data_root"], splits, seed, run.log)
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
    runs = list(scores.values())
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
