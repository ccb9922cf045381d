"""Our MiniRocket (``ssl_core.series.minirocket``) against sktime's on JapaneseVowels:
test top-1 of the same ridge on the same labeled series, per label split and on all 270
training series. The transforms draw random channel subsets and bias series, so the
accuracies are compared, not the features.

sktime stays out of the project's dependencies (``pandas < 3.1`` would downgrade the
lock), so this runs in two environments:

1. ``uv run --frozen python bench/minirocket_sktime.py dump --splits DIR --out X.pkl``:
   reads the ``.ts`` files with the vowels source, writes the series, labels and each
   split's labeled indices;
2. ``python bench/minirocket_sktime.py score X.pkl KIND`` with ``KIND`` one of ``ours``
   (the project's environment), ``ours-alternate`` (padding alternating over the kernels
   on the unequal lengths too), ``ours-padded`` (every series zero-padded to the longest,
   equal lengths), ``sktime`` (``MiniRocketMultivariateVariable``, series shorter than 9
   zero-padded to 9) or ``sktime-padded`` (``MiniRocketMultivariate`` on the padded
   series); the sktime kinds in a throwaway environment: ``uv run --no-project --with
   sktime==1.2.0 --with numba --with scikit-learn==1.9.1 python ...``.

Every fit: ``StandardScaler(with_mean=False)`` and ``RidgeClassifierCV(alphas=logspace(-3,
3, 10))`` on the transform's features, seed / ``random_state`` 0 per split, scored on the
test series of the split's classes (as ``split_scores``); all 270 series at seeds 0-2. CPU
time: process time of transform, fit and prediction, after one warm-up fit (numba's
compilation or cache load for sktime). Set ``OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import pickle
import time
import warnings
from pathlib import Path

import numpy as np


def dump(splits: Path, root: Path, out: Path) -> None:
    """Series ``(C, T_i)``, labels and the splits' labeled indices, pickled."""
    from ssl_core.project import installed_projects, project_source
    from ssl_core.splits import LabelSplit

    source = project_source(installed_projects()["vowels"])
    data = {}
    for part in ("train", "test"):
        samples = source.list_samples(root, part)
        ids = [p for p, _ in samples]
        labels = np.array([y for _, y in samples])
        data[part] = ([source.read(root, p) for p in ids], labels, ids)
    index = {p: i for i, p in enumerate(data["train"][2])}
    data["splits"] = {
        f.stem: [(index[p], y) for p, y in LabelSplit.load(f).labeled]
        for f in sorted(splits.glob("*.json"))
    }
    out.write_bytes(pickle.dumps(data))
    print(
        f"{len(data['train'][0])} train, {len(data['test'][0])} test, splits {sorted(data['splits'])}"
    )


def _features(kind: str):
    """``features(fit, apply, seed) -> (fit features, apply features)`` of a kind."""
    if kind == "sktime-padded":
        from sktime.transformations.panel.rocket import MiniRocketMultivariate

        def features(fit, apply, seed):
            t = MiniRocketMultivariate(random_state=seed, n_jobs=1)
            return t.fit_transform(np.stack(fit)).to_numpy(), t.transform(
                np.stack(apply)
            ).to_numpy()

    elif kind == "sktime":
        import pandas as pd
        from sktime.transformations.panel.rocket import MiniRocketMultivariateVariable

        def nested(series):
            return pd.DataFrame(
                {
                    f"c{c}": [pd.Series(np.asarray(s[c], dtype=np.float64)) for s in series]
                    for c in range(series[0].shape[0])
                }
            )

        def features(fit, apply, seed):
            t = MiniRocketMultivariateVariable(
                random_state=seed, n_jobs=1, pad_value_short_series=0.0
            )
            with warnings.catch_warnings():  # "X is of equal length" on padded input
                warnings.simplefilter("ignore")
                return t.fit_transform(nested(fit)).to_numpy(), t.transform(
                    nested(apply)
                ).to_numpy()

    else:
        import torch

        from ssl_core.series.minirocket import MiniRocket

        torch.set_num_threads(1)

        def features(fit, apply, seed):
            t = MiniRocket(seed=seed, alternate_padding=kind == "ours-alternate" or None).fit(fit)
            return t.transform(fit), t.transform(apply)

    return features


def score(path: Path, kind: str) -> None:
    """Print top-1 per split group (mean ± std over seeds) and on all training series."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = pickle.loads(path.read_bytes())
    (train, train_y, _), (test, test_y, _) = data["train"], data["test"]
    if kind.endswith("-padded"):
        top = max(s.shape[1] for s in train + test)
        train, test = (
            [np.pad(s, ((0, 0), (0, top - s.shape[1]))) for s in p] for p in (train, test)
        )
    features = _features(kind)

    def fit(indices, labels, seed=0):
        known = np.isin(test_y, np.unique(labels))
        start = time.process_time()
        a, b = features(
            [train[i] for i in indices], [s for s, k in zip(test, known, strict=True) if k], seed
        )
        ridge = make_pipeline(
            StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
        )
        ridge.fit(a, labels)
        return float(np.mean(ridge.predict(b) == test_y[known])), time.process_time() - start

    start = time.process_time()
    fit([0, 1, 2], train_y[:3])
    print(f"{kind}: warm-up {time.process_time() - start:.1f} s CPU")
    groups = sorted({name.rsplit("-seed", 1)[0] for name in data["splits"]})
    for group in groups:
        names = sorted(n for n in data["splits"] if n.rsplit("-seed", 1)[0] == group)
        runs = [fit(*map(list, zip(*data["splits"][n], strict=True))) for n in names]
        top1 = np.array([r[0] for r in runs])
        print(
            f"{kind} {group}: {' / '.join(f'{t:.3f}' for t in top1)} -> {top1.mean():.3f} ± "
            f"{top1.std(ddof=1):.3f}, {np.mean([r[1] for r in runs]):.2f} s CPU per split"
        )
    for seed in (0, 1, 2):
        top1, cpu = fit(list(range(len(train))), train_y, seed)
        print(f"{kind} all {len(train)} training series, seed {seed}: {top1:.3f} ({cpu:.1f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser("dump")
    d.add_argument("--splits", type=Path, required=True)
    d.add_argument("--root", type=Path, default=Path("../shared/data/uea-japanesevowels"))
    d.add_argument("--out", type=Path, required=True)
    s = commands.add_parser("score")
    s.add_argument("data", type=Path)
    s.add_argument(
        "kind", choices=("ours", "ours-alternate", "ours-padded", "sktime", "sktime-padded")
    )
    ns = parser.parse_args()
    if ns.command == "dump":
        dump(ns.splits, ns.root, ns.out)
    else:
        score(ns.data, ns.kind)


if __name__ == "__main__":
    main()
