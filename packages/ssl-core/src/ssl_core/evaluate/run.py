"""The ``evaluate`` command: one loop over the evaluators that apply, for every kind of
run. Probes fit on the label split's labeled training rows unless ``--no-split-aware``;
classification metrics leave out test rows of held-out classes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ssl_core.embeddings import EmbeddingsError, SplitEmbeddings, load_embeddings
from ssl_core.errors import exits_on_input_errors
from ssl_core.evaluate.evaluators import EVALUATORS, LAST, dataset_evaluators


def _log(message: str) -> None:
    print(f"evaluate: {message}", file=sys.stderr, flush=True)


def find_metrics_csv(out: Path) -> Path | None:
    """The newest Lightning ``metrics.csv`` of a fit under ``out`` (not an evaluation's)."""
    found = [p for p in out.rglob("metrics.csv") if "embeddings" not in p.parts]
    fits = [p for p in found if not re.search(r"-(test|validate|predict)$|^test$", p.parent.name)]
    return max(fits, key=lambda p: p.stat().st_mtime, default=None)


def signal_class(meta: dict, classes: np.ndarray, log: Callable[[str], None]) -> int | None:
    """The positive class of the two-class figures (the source's ``signal_class`` if it can
    be); ``None`` unless there are exactly two ``classes``."""
    if len(classes) != 2:
        return None
    if (wanted := meta.get("signal_class")) is not None:
        if int(wanted) in classes:
            return int(wanted)
        log(f"signal_class {wanted} of meta.json is not among the classes {classes.tolist()}")
    return 1 if 1 in classes else int(classes.max())


class Run:
    """What the evaluators read of one run: ``meta`` (``meta.json`` or a masks run's
    ``index.json``), ``settings``, the rows, the train rows the probes ``fit`` on, the test
    rows ``in_dist`` of fitted classes, ``positive`` (the signal class), and
    ``space_metrics``/``arrays`` that evaluators add to and share."""

    def __init__(self, out: Path, settings: dict, log: Callable[[str], None]) -> None:
        self.out, self.settings, self.log = Path(out), settings, log
        self.plot_dir = self.out / "plots"
        self.train = self.test = self.shifted = self.masks = self.positive = None
        self.spaces: list[str] = []
        self.space = settings.get("space", "features")
        self.held_out: list[int] = []
        self.space_metrics: dict[str, dict] = defaultdict(dict)
        self.arrays: dict[str, dict] = defaultdict(dict)
        csv = settings.get("metrics_csv")
        self.metrics_csv = Path(csv) if csv else find_metrics_csv(self.out)

    def load_embeddings(self, directory: Path, hold_out: Sequence[str]) -> None:
        self.emb_dir = directory
        parts, self.meta = load_embeddings(directory)
        self.train, self.test = parts["train"], parts["test"]
        self.shifted: SplitEmbeddings | None = parts.get("test_shifted")
        self.spaces = [s for s in ("features", "projection") if getattr(self.train, s) is not None]
        if self.space not in self.spaces:
            raise EmbeddingsError(f"--space {self.space}: the embeddings hold only {self.spaces}")
        self.class_names = self.meta.get("class_names")
        names = list(self.class_names or [])
        try:
            hidden = [names.index(c) if c in names else int(c) for c in hold_out]
        except ValueError:
            raise EmbeddingsError(f"--hold-out {list(hold_out)}: classes are {names}") from None
        train, test = self.train.labels, self.test.labels
        fit = (train >= 0) & (self.train.labeled if self.settings["split_aware"] else True)
        self.fit = fit & ~np.isin(train, hidden)
        fit_classes = np.unique(train[self.fit])
        seen = np.setdiff1d(np.unique(train[train >= 0]), hidden)
        self.in_dist = np.isin(test, fit_classes)
        self.held_out = sorted(int(c) for c in np.setdiff1d(np.unique(test), seen))
        self.num_classes = int(max(len(names), test.max() + 1, train.max() + 1))
        self.chance = 1.0 / max(len(fit_classes), 1)
        same = np.array_equal(np.unique(test[self.in_dist]), fit_classes)
        self.positive = signal_class(self.meta, fit_classes, self.log) if same else None
        self.log(
            f"{len(self.train)} train rows ({int(self.fit.sum())} labeled used), {len(self.test)} "
            f"test rows{', shifted test' if self.shifted is not None else ''}; spaces "
            f"{self.spaces}; held out {self.held_out or 'none'}"
        )

    def column(self, name: str) -> np.ndarray | None:
        """A per-sample column of the test rows (e.g. ``snr``), or ``None``."""
        with np.load(self.emb_dir / "test.npz", allow_pickle=False) as data:
            return data[name] if name in data.files else None

    def has(self, need: str) -> bool:
        """Whether the run holds what an evaluator ``need``s."""
        if need.startswith("column:"):
            return self.train is not None and self.column(need.split(":", 1)[1]) is not None
        holds = {
            "embeddings": self.train is not None,
            "masks": self.masks is not None,
            "held_out": bool(self.held_out),
            "two_classes": self.positive is not None,
            "shifted": self.shifted is not None,
            "splits": bool(self.settings.get("splits")),
            "metrics_csv": self.metrics_csv is not None and self.metrics_csv.is_file(),
        }
        if need not in holds:
            raise ValueError(f"unknown need {need!r}")
        return holds[need]


def evaluate(out_dir: str | Path, log: Callable[[str], None] = _log, **options) -> dict:
    """Evaluate a run; write metrics.json, plots/ and report.md in ``out_dir`` and return
    the metrics. ``options``: the command's flags by their names (``k=20``, ``umap=False``);
    a run with ``masks/`` and no ``embeddings/`` is a segmentation run.

    Raises:
        EmbeddingsError: the embeddings directory is missing, malformed or inconsistent.
        MasksError: likewise the masks directory of a segmentation run.
        TypeError: an option the command does not have.
    """
    from ssl_core.evaluate.report import write_report

    o = vars(parse_args([str(out_dir)]))  # the command's defaults
    if unknown := set(options) - set(o):
        raise TypeError(f"evaluate() got unknown options {sorted(unknown)}")
    o.update(options)
    out = o.pop("out")
    keys = ("k", "t", "split_aware", "linear_c", "linear_max_iter", "labelprop_neighbors", "seed")
    settings = {key: o[key] for key in keys}  # what metrics.json records
    if o["splits"]:
        settings["splits"] = str(o["splits"])
    run = Run(out, {**o, **settings}, log)
    emb_dir = Path(o["embeddings"]) if o["embeddings"] else out / "embeddings"
    mask_dir = Path(o["masks"]) if o["masks"] else out / "masks"
    if not emb_dir.is_dir() and (mask_dir / "index.json").is_file():
        from ssl_core.evaluate.segmentation import load_masks

        load_masks(run, mask_dir)
    else:
        run.load_embeddings(emb_dir, o["hold_out"])
    metrics: dict = {}
    evaluators = [*EVALUATORS, *dataset_evaluators(run.meta.get("evaluators") or []), *LAST]
    plots: dict[str, Path] = {}
    for evaluator in evaluators:
        if evaluator.applies(run):
            found, drawn = evaluator(run)
            metrics.update(found)
            plots.update(drawn)
    if run.train is not None:
        metrics = _classification_metrics(run, metrics, settings)
    if run.has("metrics_csv"):
        metrics["run"]["metrics_csv"] = str(run.metrics_csv)
    else:
        log(f"no metrics.csv under {out}: no training curves")
    metrics["plots"] = [p.relative_to(out).as_posix() for p in plots.values()]
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    report = write_report(out, metrics, plots)
    log(f"wrote {out / 'metrics.json'}, {report} and {len(plots)} plots in {run.plot_dir}")
    return metrics


def _classification_metrics(run: Run, found: dict, settings: dict) -> dict:
    """``metrics.json`` of an embeddings run: the headline space's numbers first."""
    spaces = {name: {"dim": int(run.train.space(name).shape[1])} for name in run.spaces}
    for name in run.spaces:
        spaces[name].update(run.space_metrics[name])
    run_keys = ("checkpoint", "config", "model", "label_split", "label_split_fraction")
    run_keys += ("shift", "exclude_classes", "created", "test_on")
    metrics = {
        **{k: v for k, v in spaces[run.space].items() if k != "dim"},
        "space": run.space,
        "chance_top1": run.chance,
        "num_fit": int(run.fit.sum()),
        "num_test": len(run.test),
        "num_test_in_distribution": int(run.in_dist.sum()),
        "held_out_labels": run.held_out,
        "held_out_classes": [
            run.class_names[c] if run.class_names else str(c) for c in run.held_out
        ],
        "spaces": spaces,
        "settings": settings,
        "run": {key: run.meta.get(key) for key in run_keys},
    }
    if not run.held_out:
        metrics.pop("anomaly_auroc", None)
    return {**metrics, **found}


def parse_args(args: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="evaluate",
        description="Numbers and pictures from what `train predict` wrote (OUT/embeddings/ or, "
        "for segmentation, OUT/masks/): writes OUT/metrics.json, OUT/plots/*.png and "
        "OUT/report.md.",
    )
    add = parser.add_argument
    add("out", type=Path, help="run directory (trainer.default_root_dir of predict)")
    add("--embeddings", type=Path, help="embeddings directory (default OUT/embeddings)")
    add("--masks", type=Path, help="masks directory (default OUT/masks)")
    add("--space", choices=("features", "projection"), default="features",
        help="space of the headline metrics and the UMAP (default: features)")  # fmt: skip
    add("--k", type=int, default=200, help="kNN neighbours (default 200)")
    add("--t", type=float, default=0.1, help="kNN vote temperature (default 0.1)")
    add("--no-split-aware", dest="split_aware", action="store_false",
        help="fit on every labeled training row, not only the split's labeled part")  # fmt: skip
    add("--linear-c", type=float, default=1.0, help="inverse L2 strength of the probe")
    add("--linear-max-iter", type=int, default=1000)
    add("--labelprop-neighbors", type=int, default=10)
    add("--no-umap", dest="umap", action="store_false", help="skip the UMAP plot (slow)")
    add("--max-plot-points", type=int, default=5000, help="subsample UMAP and corner plots")
    add("--metrics-csv", type=Path, help="training log (default: newest metrics.csv under OUT)")
    add("--seed", type=int, default=0)
    add("--hold-out", nargs="+", default=(), metavar="CLASS",
        help="classes treated as unseen (not fitted; their test rows the anomalies): the "
        "anomaly test on a space trained with them, e.g. the random-init baseline's")  # fmt: skip
    add("--no-classifier", dest="classifier", action="store_false",
        help="ignore the embeddings' classifier logits (an untrained head's, e.g. the "
        "random-init baseline's): two-class figures from the linear probe")  # fmt: skip
    add("--splits", type=Path,
        help="a folder of label splits: a kNN vote and a linear probe on each split's labels "
        "(metrics.json's split_probes; the comparison's frozen rows read them)")  # fmt: skip
    add("--examples", type=int, default=3, help="segmentation: best and worst images shown")
    return parser.parse_args(args)


def main(args: list[str] | None = None) -> None:
    """``evaluate``; exits with a message on a bad directory."""
    from ssl_core.two_class import TWO_CLASS_KEYS

    ns = vars(parse_args(args))
    out = ns.pop("out")
    with exits_on_input_errors("evaluate"):
        metrics = evaluate(out, **ns)
    keys = ("knn_top1", "knn_top5", "linear_top1", "kmeans_nmi", "kmeans_ari", "anomaly_auroc")
    keys += TWO_CLASS_KEYS + ("iou", "dice", "image_iou", "image_dice", "num_images")
    print(json.dumps({k: metrics[k] for k in keys if k in metrics}, indent=1))
