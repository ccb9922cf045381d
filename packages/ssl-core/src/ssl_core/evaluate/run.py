"""The ``evaluate`` command.

``evaluate OUT [--k 200] [--t 0.1] [--space features|projection] [--no-split-aware]
[--no-umap] ...``

Reads ``OUT/embeddings/``; writes ``OUT/metrics.json``, ``OUT/plots/*.png``,
``OUT/report.md``. What is measured (every space the embeddings hold: backbone
``features`` and the ``projection``; the top-level keys of ``metrics.json`` are those of
``--space``):

- ``knn_top1``/``knn_top5``: weighted kNN (bank: labeled training rows; queries: the
  test set, ``test.npz``).
- ``linear_top1``/``linear_top5``: logistic regression on standardized embeddings.
- ``kmeans_nmi``/``kmeans_ari``: k-means on test, k = number of test classes.
- ``labelprop_pool_top1`` (with a label split), ``labelprop_test_top1``: label spreading
  from the labeled training rows over a kNN graph of train + test.
- ``anomaly_auroc`` (when test has classes that training did not): class-conditional
  Gaussians, shared covariance, fitted on the labeled training rows; Mahalanobis score;
  AUROC of held-out-class test rows against in-distribution test rows.
- with ``test_shifted``: ``knn_top1_shifted``, mean anomaly scores clean/shifted,
  ``shift_auroc`` (shifted vs clean), ``anomaly_auroc_shifted``.
- with an ``snr`` per test row (generated strain) and held-out classes: ``efficiency``,
  each held-out class's detection efficiency per SNR bin at a false-alarm rate of 1e-3
  on the noise-only (SNR 0) test rows, Mahalanobis scores (GWAK, Raikman et al. 2023);
  plot ``plots/efficiency_vs_snr.png``.
- with exactly two classes (e.g. top against QCD jets): ``roc_auc``,
  ``rejection_eff30`` and ``rejection_eff50`` (background rejection 1/eps_B at signal
  efficiency 0.3 and 0.5) of the signal class's score on test: the classifier's
  (``test.npz`` holding ``logits`` (N, C)) when the run has one, else the linear
  probe's; every space also gets its probe's. The signal class is ``meta.json``'s
  ``signal_class`` (the source's), else 1. Plot ``plots/two_class_roc.png``.

"Labeled training rows" are the label split's labeled part (``labeled`` column) unless
``--no-split-aware``. Classification metrics leave out test rows of held-out classes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ssl_core.embeddings import EmbeddingsError, SplitEmbeddings, load_embeddings


def _log(message: str) -> None:
    print(f"evaluate: {message}", file=sys.stderr, flush=True)


class _Step:
    """Progress message with the time a step took."""

    def __init__(self, log: Callable[[str], None], what: str) -> None:
        self.log, self.what = log, what

    def __enter__(self):
        self.start = time.perf_counter()
        self.log(f"{self.what} ...")

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.log(f"{self.what}: {time.perf_counter() - self.start:.1f} s")


TWO_CLASS_KEYS = ("roc_auc", "rejection_eff30", "rejection_eff50")


def signal_class(meta: dict, classes: np.ndarray, log: Callable[[str], None]) -> int | None:
    """The positive class of the two-class figures: ``meta.json``'s ``signal_class``
    (the source's) when it is one of the two ``classes``, else 1; ``None`` unless there
    are exactly two classes."""
    if len(classes) != 2:
        return None
    wanted = meta.get("signal_class")
    if wanted is not None and int(wanted) in classes:
        return int(wanted)
    if wanted is not None:
        log(f"signal_class {wanted} of meta.json is not among the classes {classes.tolist()}")
    return 1 if 1 in classes else int(classes.max())


def read_test_logits(directory: Path, rows: int) -> np.ndarray | None:
    """The classifier's logits ``(N, C)`` of the test rows when ``test.npz`` holds them
    (methods with a classifier), else ``None``."""
    with np.load(directory / "test.npz", allow_pickle=False) as data:
        if "logits" not in data.files:
            return None
        logits = np.asarray(data["logits"], dtype=np.float64)
    if logits.ndim != 2 or len(logits) != rows or not np.isfinite(logits).all():
        raise EmbeddingsError(
            f"{directory / 'test.npz'}: logits must be finite (N, C) with N = {rows}, "
            f"not shape {logits.shape}"
        )
    return logits


def find_metrics_csv(out: Path) -> Path | None:
    """The newest Lightning ``metrics.csv`` under ``out`` (the training run's log)."""
    found = [p for p in out.rglob("metrics.csv") if "embeddings" not in p.parts]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _space_metrics(
    space: str,
    train: SplitEmbeddings,
    test: SplitEmbeddings,
    shifted: SplitEmbeddings | None,
    fit: np.ndarray,
    in_dist: np.ndarray,
    num_classes: int,
    settings: dict,
    log: Callable[[str], None],
    positive: int | None = None,
) -> tuple[dict, dict]:
    """Metrics of one space, and the arrays the plots need; with ``positive`` (the
    signal class of a two-class test set) the probe's ROC AUC and rejections."""
    from ssl_core.evaluate import metrics as M

    xt, xte = train.space(space), test.space(space)
    yt, yte = train.labels, test.labels
    out: dict = {"dim": int(xt.shape[1])}
    arrays: dict = {}
    with _Step(log, f"[{space}] kNN (k={settings['k']}, t={settings['t']})"):
        knn = M.knn_scores(
            xt[fit], yt[fit], xte[in_dist], yte[in_dist], num_classes, settings["k"], settings["t"]
        )
    out["knn_top1"], out["knn_top5"] = knn["top1"], knn["top5"]
    arrays["knn_predictions"] = knn["predictions"]
    if len(np.unique(yt[fit])) < 2:  # one class trained (an anomaly space): no probe
        lin = {"top1": None, "top5": None}
    else:
        with _Step(log, f"[{space}] linear probe on {int(fit.sum())} rows"):
            lin = M.linear_probe(
                xt[fit],
                yt[fit],
                xte[in_dist],
                yte[in_dist],
                settings["linear_c"],
                settings["linear_max_iter"],
                settings["seed"],
            )
    out["linear_top1"], out["linear_top5"] = lin["top1"], lin["top5"]
    if positive is not None:
        score = lin["proba"][:, list(lin["classes"]).index(positive)]
        figures = M.two_class_scores(yte[in_dist], score, positive)
        out.update({key: figures[key] for key in TWO_CLASS_KEYS})
        arrays["two_class"] = figures
    out.update(M.collapse_scores(xte))  # test embeddings, no labels
    with _Step(log, f"[{space}] k-means"):
        km = M.kmeans_scores(xte, yte, seed=settings["seed"])
    out["kmeans_nmi"], out["kmeans_ari"], out["kmeans_k"] = km["nmi"], km["ari"], km["k"]
    with _Step(log, f"[{space}] label propagation over {len(xt) + len(xte)} rows"):
        x_all = np.concatenate([xt, xte])
        y_all = np.concatenate([yt, yte])
        known = np.concatenate([fit, np.zeros(len(yte), bool)])
        spread = M.label_propagation(x_all, y_all, known, settings["labelprop_neighbors"])
    classes = np.unique(yt[fit])
    pool = ~fit & (yt >= 0) & np.isin(yt, classes)
    out["labelprop_pool_top1"] = (
        float((spread[: len(yt)][pool] == yt[pool]).mean()) if pool.any() else None
    )
    out["labelprop_test_top1"] = float((spread[len(yt) :][in_dist] == yte[in_dist]).mean())
    with _Step(log, f"[{space}] Gaussian anomaly scores"):
        scorer = M.GaussianScorer().fit(xt[fit], yt[fit])
        s_test = scorer.score(xte)
        s_shift = scorer.score(shifted.space(space)) if shifted is not None else None
    arrays["scores_test"], arrays["scores_shifted"] = s_test, s_shift
    out["anomaly_auroc"] = M.auroc(s_test[in_dist], s_test[~in_dist]) if (~in_dist).any() else None
    if shifted is not None:
        xs = shifted.space(space)
        with _Step(log, f"[{space}] kNN on shifted test"):
            knn_s = M.knn_scores(
                xt[fit],
                yt[fit],
                xs[in_dist],
                yte[in_dist],
                num_classes,
                settings["k"],
                settings["t"],
            )
        out["knn_top1_shifted"] = knn_s["top1"]
        out["knn_top5_shifted"] = knn_s["top5"]
        out["anomaly_score_clean"] = float(s_test[in_dist].mean())
        out["anomaly_score_shifted"] = float(s_shift[in_dist].mean())
        out["shift_auroc"] = M.auroc(s_test[in_dist], s_shift[in_dist])
        out["anomaly_auroc_shifted"] = (
            M.auroc(s_shift[in_dist], s_shift[~in_dist]) if (~in_dist).any() else None
        )
    return out, arrays


def evaluate(
    out_dir: str | Path,
    embeddings: str | Path | None = None,
    space: str = "features",
    k: int = 200,
    t: float = 0.1,
    split_aware: bool = True,
    linear_c: float = 1.0,
    linear_max_iter: int = 1000,
    labelprop_neighbors: int = 10,
    umap: bool = True,
    max_plot_points: int = 5000,
    metrics_csv: str | Path | None = None,
    seed: int = 0,
    classifier: bool = True,
    hold_out: Sequence[str] = (),
    log: Callable[[str], None] = _log,
) -> dict:
    """Evaluate the embeddings of a run; write metrics.json, plots/ and report.md in ``out_dir``.

    ``classifier=False`` ignores the embeddings' ``logits`` (an untrained head's, as the
    random-init baseline's): the two-class figures are then the linear probe's.
    ``hold_out``: classes (names or numbers) treated as unseen, as if training had left
    them out: no row of theirs is fitted, and the test rows of theirs are the anomalies
    (the anomaly test on any space, e.g. the untrained network's).

    Returns:
        The content of ``metrics.json``.

    Raises:
        EmbeddingsError: the embeddings directory is missing, malformed or inconsistent.
    """
    from ssl_core.evaluate import plots as P
    from ssl_core.evaluate.report import write_report

    out = Path(out_dir)
    emb_dir = Path(embeddings) if embeddings else out / "embeddings"
    splits, meta = load_embeddings(emb_dir)
    train, test, shifted = splits["train"], splits["test"], splits.get("test_shifted")
    spaces = [s for s in ("features", "projection") if getattr(train, s) is not None]
    if space not in spaces:
        raise EmbeddingsError(f"--space {space}: the embeddings hold only {spaces}")
    settings = {
        "k": k,
        "t": t,
        "split_aware": split_aware,
        "linear_c": linear_c,
        "linear_max_iter": linear_max_iter,
        "labelprop_neighbors": labelprop_neighbors,
        "seed": seed,
    }
    class_names = meta.get("class_names")
    names = list(class_names or [])
    try:
        hidden = [names.index(c) if c in names else int(c) for c in hold_out]
    except ValueError:
        raise EmbeddingsError(f"--hold-out {list(hold_out)}: classes are {names}") from None
    fit = (train.labels >= 0) & (train.labeled if split_aware else True)
    fit &= ~np.isin(train.labels, hidden)
    fit_classes = np.unique(train.labels[fit])
    seen = np.setdiff1d(np.unique(train.labels[train.labels >= 0]), hidden)
    in_dist = np.isin(test.labels, fit_classes)
    held_out = sorted(int(c) for c in np.setdiff1d(np.unique(test.labels), seen))
    num_classes = int(max(len(class_names or ()), test.labels.max() + 1, train.labels.max() + 1))
    log(
        f"{len(train)} train rows ({int(fit.sum())} labeled used), {len(test)} test rows"
        f"{', shifted test' if shifted is not None else ''}; spaces {spaces}; held out {held_out or 'none'}"
    )

    test_classes = np.unique(test.labels[in_dist])
    positive = (
        signal_class(meta, fit_classes, log) if np.array_equal(test_classes, fit_classes) else None
    )
    per_space, arrays = {}, {}
    for name in spaces:
        per_space[name], arrays[name] = _space_metrics(
            name, train, test, shifted, fit, in_dist, num_classes, settings, log, positive
        )
    head = per_space[space]
    two_class: dict = {}  # the headline two-class figures, and their curves
    if positive is not None:
        logits = read_test_logits(emb_dir, len(test)) if classifier else None
        if logits is not None and logits.shape[1] > positive:
            z = logits[in_dist] - logits[in_dist].max(axis=1, keepdims=True)
            proba = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            from ssl_core.evaluate import metrics as M

            two_class["classifier"] = M.two_class_scores(
                test.labels[in_dist], proba[:, positive], positive
            )
        for name in spaces:
            two_class[f"linear probe ({name})"] = arrays[name]["two_class"]
        source = "classifier" if "classifier" in two_class else f"linear probe ({space})"
        log(
            f"two classes: signal class {positive}; roc_auc {two_class[source]['roc_auc']:.4f} "
            f"of the {source}"
        )
    metrics = {
        **{k_: v for k_, v in head.items() if k_ != "dim"},
        "space": space,
        "chance_top1": 1.0 / max(len(fit_classes), 1),
        "num_fit": int(fit.sum()),
        "num_test": len(test),
        "num_test_in_distribution": int(in_dist.sum()),
        "held_out_labels": held_out,
        "held_out_classes": [class_names[c] if class_names else str(c) for c in held_out],
        "spaces": per_space,
        "settings": settings,
        "run": {
            key: meta.get(key)
            for key in (
                "checkpoint",
                "config",
                "model",
                "label_split",
                "label_split_fraction",
                "shift",
                "exclude_classes",
                "created",
            )
        },
    }
    if not held_out:
        metrics.pop("anomaly_auroc", None)
    if two_class:
        metrics.update({key: two_class[source][key] for key in TWO_CLASS_KEYS})
        metrics["two_class_score"] = source
        metrics["signal_class"] = positive
        if "classifier" in two_class:
            metrics["classifier"] = {key: two_class["classifier"][key] for key in TWO_CLASS_KEYS}

    plots: dict[str, Path] = {}
    plot_dir = out / "plots"
    label_names = class_names
    if umap:
        with _Step(log, f"UMAP of test ({space})"):
            plots["UMAP of test embeddings"] = P.umap_plot(
                test.space(space),
                test.labels,
                plot_dir / "umap.png",
                label_names,
                held_out,
                title=f"test {space}",
                max_points=max_plot_points,
                seed=seed,
            )
    if test.projection is not None and test.projection.shape[1] <= 8:
        plots["Corner plot of the projection"] = P.corner_plot(
            test.projection,
            test.labels,
            plot_dir / "corner.png",
            label_names,
            held_out,
            title="test projection (contrastive space)",
            max_points=max_plot_points,
            seed=seed,
        )
    plots["kNN confusion matrix"] = P.confusion_plot(
        test.labels[in_dist],
        arrays[space]["knn_predictions"],
        plot_dir / "knn_confusion.png",
        label_names,
        title=f"kNN on test ({space}), top-1 {head['knn_top1']:.3f}",
    )
    if two_class:
        name = class_names[positive] if class_names and positive < len(class_names) else positive
        plots["Two-class ROC"] = P.two_class_roc_plot(
            {k: (v["fpr"], v["tpr"], v["roc_auc"]) for k, v in two_class.items()},
            plot_dir / "two_class_roc.png",
            title=f"signal: {name}, {int((test.labels[in_dist] == positive).sum())} of "
            f"{int(in_dist.sum())} test rows",
        )
    a = arrays[space]
    curves = {}
    if held_out:
        curves["held-out class"] = (a["scores_test"][in_dist], a["scores_test"][~in_dist])
    if shifted is not None:
        curves[f"shifted ({meta.get('shift')}) vs clean"] = (
            a["scores_test"][in_dist],
            a["scores_shifted"][in_dist],
        )
    if curves:
        plots["Anomaly ROC"] = P.roc_plot(
            curves, plot_dir / "anomaly_roc.png", f"Mahalanobis scores ({space})"
        )
        groups = {"in-distribution test": a["scores_test"][in_dist]}
        if held_out:
            groups["held-out class"] = a["scores_test"][~in_dist]
        if shifted is not None:
            groups["shifted test"] = a["scores_shifted"][in_dist]
        plots["Anomaly scores"] = P.score_histogram(
            groups, plot_dir / "anomaly_scores.png", f"Anomaly scores ({space})"
        )
    with np.load(emb_dir / "test.npz", allow_pickle=False) as data:  # windows with an SNR
        snr = data["snr"] if "snr" in data.files and held_out else None
    if snr is not None:
        from ssl_core.series.efficiency import held_out_efficiency

        metrics["efficiency"], plots["Efficiency vs SNR"] = held_out_efficiency(
            a["scores_test"], test.labels, snr, held_out, class_names, plot_dir
        )
    csv = Path(metrics_csv) if metrics_csv else find_metrics_csv(out)
    if csv is not None and csv.is_file():
        curve = P.training_curves(csv, plot_dir / "training_curves.png")
        if curve is not None:
            plots["Training curves"] = curve
        metrics["run"]["metrics_csv"] = str(csv)
    else:
        log(f"no metrics.csv under {out}: no training curves")
    metrics["plots"] = [p.relative_to(out).as_posix() for p in plots.values()]

    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    report = write_report(out, metrics, plots)
    log(f"wrote {out / 'metrics.json'}, {report} and {len(plots)} plots in {plot_dir}")
    return metrics


def parse_args(args: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="evaluate",
        description="Numbers and pictures from a run's embeddings (OUT/embeddings/, written by "
        "`train predict`): writes OUT/metrics.json, OUT/plots/*.png and OUT/report.md.",
    )
    parser.add_argument(
        "out", type=Path, help="run directory (trainer.default_root_dir of predict)"
    )
    parser.add_argument(
        "--embeddings", type=Path, help="embeddings directory (default OUT/embeddings)"
    )
    parser.add_argument(
        "--space",
        choices=("features", "projection"),
        default="features",
        help="space of the headline metrics and the UMAP (default: features)",
    )
    parser.add_argument("--k", type=int, default=200, help="kNN neighbours (default 200)")
    parser.add_argument("--t", type=float, default=0.1, help="kNN vote temperature (default 0.1)")
    parser.add_argument(
        "--no-split-aware",
        dest="split_aware",
        action="store_false",
        help="fit on every labeled training row, not only the label split's labeled part",
    )
    parser.add_argument(
        "--linear-c", type=float, default=1.0, help="inverse L2 strength of the probe"
    )
    parser.add_argument("--linear-max-iter", type=int, default=1000)
    parser.add_argument("--labelprop-neighbors", type=int, default=10)
    parser.add_argument(
        "--no-umap", dest="umap", action="store_false", help="skip the UMAP plot (slow)"
    )
    parser.add_argument(
        "--max-plot-points",
        type=int,
        default=5000,
        help="subsample larger sets for UMAP and corner plots",
    )
    parser.add_argument(
        "--metrics-csv", type=Path, help="training log (default: newest metrics.csv under OUT)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--hold-out",
        nargs="+",
        default=(),
        metavar="CLASS",
        help="classes treated as unseen (not fitted; their test rows the anomalies): the "
        "anomaly test on a space trained with them, e.g. the random-init baseline's",
    )
    parser.add_argument(
        "--no-classifier",
        dest="classifier",
        action="store_false",
        help="ignore the embeddings' classifier logits (an untrained head's, e.g. the "
        "random-init baseline's): two-class figures from the linear probe",
    )
    return parser.parse_args(args)


def main(args: list[str] | None = None) -> None:
    """Console entry point of ``evaluate``; exits with a message on a bad directory."""
    ns = vars(parse_args(args))
    out = ns.pop("out")
    try:
        metrics = evaluate(out, **ns)
    except EmbeddingsError as err:
        raise SystemExit(f"evaluate: {err}") from None
    keys = ("knn_top1", "knn_top5", "linear_top1", "kmeans_nmi", "kmeans_ari", "anomaly_auroc")
    keys += TWO_CLASS_KEYS
    print(json.dumps({k: metrics[k] for k in keys if k in metrics}, indent=1))
