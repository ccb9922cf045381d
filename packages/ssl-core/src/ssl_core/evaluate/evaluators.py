"""What ``evaluate`` measures: one :class:`Evaluator` per family of numbers and figures,
run when the run has what it ``needs``: :data:`EVALUATORS`, then those the run's dataset
names (``module:Class`` in ``meta.json``), then :data:`LAST`. Per-space numbers go to
``metrics["spaces"][name]``; the headline space's are also top-level keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ssl_core.evaluate import metrics as M
from ssl_core.knn import knn_accuracy, knn_scores
from ssl_core.two_class import INTERVAL_KEYS, TWO_CLASS_KEYS, rejection_interval, two_class_scores

Run = Any  # ssl_core.evaluate.run.Run, the loop's context (which imports this module)
Plots = dict[str, Path]

#: What a run's two-class figures record: the field's numbers and the rejection's interval.
HEADLINE_KEYS = TWO_CLASS_KEYS + INTERVAL_KEYS


@contextmanager
def step(log: Callable[[str], None], what: str) -> Iterator[None]:
    """Progress message with the time a step took."""
    start = time.perf_counter()
    log(f"{what} ...")
    yield
    log(f"{what}: {time.perf_counter() - start:.1f} s")


class Evaluator:
    """One family of numbers and figures (see the module docstring): a subclass's
    ``__call__``, or ``function(run)`` with its ``needs``."""

    #: What the run must hold: ``embeddings``, ``masks``, ``held_out``, ``two_classes``,
    #: ``shifted``, ``splits`` (label splits given), ``metrics_csv``, ``column:<name>``.
    needs: tuple[str, ...] = ("embeddings",)

    def __init__(self, function: Callable[[Run], tuple[dict, Plots]] | None = None, *needs: str):
        self.function, self.needs = function, needs or self.needs

    def applies(self, run: Run) -> bool:
        return all(run.has(need) for need in self.needs)

    def __call__(self, run: Run) -> tuple[dict, Plots]:
        """Numbers for ``metrics.json`` (merged into it) and figures (title -> file)."""
        return self.function(run)


def vote(run: Run, name: str, queries: np.ndarray) -> dict:
    """The kNN vote of the fitted train rows on the in-distribution rows of ``queries``."""
    s, train, fit, in_dist = run.settings, run.train, run.fit, run.in_dist
    return knn_accuracy(train.space(name)[fit], train.labels[fit], queries[in_dist],
                        run.test.labels[in_dist], run.num_classes, s["k"], s["t"])  # fmt: skip


def knn(run: Run, name: str) -> dict:
    with step(run.log, f"[{name}] kNN (k={run.settings['k']}, t={run.settings['t']})"):
        knn = vote(run, name, run.test.space(name))
    run.arrays[name]["knn_predictions"] = knn["predictions"]
    return {"knn_top1": knn["top1"], "knn_top5": knn["top5"]}


def linear_probe(run: Run, name: str) -> dict:
    s, train, test = run.settings, run.train.space(name), run.test.space(name)
    yt, yte = run.train.labels, run.test.labels
    if len(np.unique(yt[run.fit])) < 2:  # one class trained (an anomaly space): no probe
        return {"linear_top1": None, "linear_top5": None}
    with step(run.log, f"[{name}] linear probe on {int(run.fit.sum())} rows"):
        lin = M.linear_probe(
            train[run.fit], yt[run.fit], test[run.in_dist], yte[run.in_dist],
            s["linear_c"], s["linear_max_iter"], s["seed"],
        )  # fmt: skip
    out = {"linear_top1": lin["top1"], "linear_top5": lin["top5"]}
    if run.positive is not None:
        score = lin["proba"][:, list(lin["classes"]).index(run.positive)]
        figures = two_class_scores(yte[run.in_dist], score, run.positive)
        figures |= rejection_interval(yte[run.in_dist], score, run.positive)
        out.update({key: figures[key] for key in HEADLINE_KEYS})
        run.arrays[name]["two_class"] = figures
    return out


def collapse(run: Run, name: str) -> dict:
    return M.collapse_scores(run.test.space(name))  # test embeddings, no labels


def clusters(run: Run, name: str) -> dict:
    with step(run.log, f"[{name}] k-means"):
        km = M.kmeans_scores(run.test.space(name), run.test.labels, seed=run.settings["seed"])
    return {"kmeans_nmi": km["nmi"], "kmeans_ari": km["ari"], "kmeans_k": km["k"]}


def label_propagation(run: Run, name: str) -> dict:
    xt, xte = run.train.space(name), run.test.space(name)
    yt, yte = run.train.labels, run.test.labels
    with step(run.log, f"[{name}] label propagation over {len(xt) + len(xte)} rows"):
        known = np.concatenate([run.fit, np.zeros(len(yte), bool)])
        spread = M.label_propagation(
            np.concatenate([xt, xte]), np.concatenate([yt, yte]), known,
            run.settings["labelprop_neighbors"],
        )  # fmt: skip
    pool = ~run.fit & (yt >= 0) & np.isin(yt, np.unique(yt[run.fit]))
    return {
        "labelprop_pool_top1": (
            float((spread[: len(yt)][pool] == yt[pool]).mean()) if pool.any() else None
        ),
        "labelprop_test_top1": float((spread[len(yt) :][run.in_dist] == yte[run.in_dist]).mean()),
    }


def anomaly(run: Run, name: str) -> dict:
    """Gaussian anomaly scores; ``anomaly_auroc`` (held-out classes) and the shift's."""
    xt, in_dist = run.train.space(name), run.in_dist
    with step(run.log, f"[{name}] Gaussian anomaly scores"):
        scorer = M.GaussianScorer().fit(xt[run.fit], run.train.labels[run.fit])
        s_test = scorer.score(run.test.space(name))
        shifted = run.shifted
        s_shift = scorer.score(shifted.space(name)) if shifted is not None else None
    run.arrays[name].update(scores_test=s_test, scores_shifted=s_shift)
    held = (~in_dist).any()
    out = {"anomaly_auroc": M.auroc(s_test[in_dist], s_test[~in_dist]) if held else None}
    if shifted is None:
        return out
    with step(run.log, f"[{name}] kNN on shifted test"):
        knn = vote(run, name, shifted.space(name))
    return {
        **out,
        "knn_top1_shifted": knn["top1"],
        "knn_top5_shifted": knn["top5"],
        "anomaly_score_clean": float(s_test[in_dist].mean()),
        "anomaly_score_shifted": float(s_shift[in_dist].mean()),
        "shift_auroc": M.auroc(s_test[in_dist], s_shift[in_dist]),
        "anomaly_auroc_shifted": M.auroc(s_shift[in_dist], s_shift[~in_dist]) if held else None,
    }


def per_space(run: Run) -> tuple[dict, Plots]:
    """The functions above, ``(run, name) -> dict``, each on every space in turn; what they
    return goes to ``metrics["spaces"][name]``."""
    for function in (knn, linear_probe, collapse, clusters, label_propagation, anomaly):
        for name in run.spaces:
            run.space_metrics[name].update(function(run, name))
    return {}, {}


def pictures(run: Run) -> tuple[dict, Plots]:
    """UMAP of the test embeddings, corner plot of a small projection, kNN confusion."""
    from ssl_core.evaluate import plots as P

    s, test, space, names = run.settings, run.test, run.space, run.class_names
    plots: Plots = {}
    if s["umap"]:
        with step(run.log, f"UMAP of test ({space})"):
            plots["UMAP of test embeddings"] = P.umap_plot(
                test.space(space), test.labels, run.plot_dir / "umap.png", names,
                run.held_out, title=f"test {space}", max_points=s["max_plot_points"],
                seed=s["seed"],
            )  # fmt: skip
    if test.projection is not None and test.projection.shape[1] <= 8:
        plots["Corner plot of the projection"] = P.corner_plot(
            test.projection, test.labels, run.plot_dir / "corner.png", names, run.held_out,
            title="test projection (contrastive space)", max_points=s["max_plot_points"],
            seed=s["seed"],
        )  # fmt: skip
    top1 = run.space_metrics[space]["knn_top1"]
    plots["kNN confusion matrix"] = P.confusion_plot(
        test.labels[run.in_dist], run.arrays[space]["knn_predictions"],
        run.plot_dir / "knn_confusion.png", names,
        title=f"kNN on test ({space}), top-1 {top1:.3f}",
    )  # fmt: skip
    return {}, plots


def two_class(run: Run) -> tuple[dict, Plots]:
    """The two-class figures (docs/evaluation.md, "Two classes") and every score's ROC."""
    from scipy.special import softmax

    from ssl_core.embeddings import load_logits
    from ssl_core.evaluate import plots as P

    positive, in_dist, labels = run.positive, run.in_dist, run.test.labels
    curves = {}
    if run.settings["classifier"]:
        logits = load_logits(run.emb_dir, "test", len(run.test))
        if logits is not None and logits.shape[1] > positive:
            proba = softmax(logits[in_dist], axis=1)[:, positive]
            curves["classifier"] = two_class_scores(labels[in_dist], proba, positive)
            curves["classifier"] |= rejection_interval(labels[in_dist], proba, positive)
    for name in run.spaces:
        curves[f"linear probe ({name})"] = run.arrays[name]["two_class"]
    source = "classifier" if "classifier" in curves else f"linear probe ({run.space})"
    run.log(
        f"two classes: signal class {positive}; roc_auc {curves[source]['roc_auc']:.4f} "
        f"of the {source}"
    )
    metrics = {key: curves[source][key] for key in HEADLINE_KEYS}
    metrics.update(two_class_score=source, signal_class=positive)
    if "classifier" in curves:
        metrics["classifier"] = {key: curves["classifier"][key] for key in HEADLINE_KEYS}
    names = run.class_names
    name = names[positive] if names and positive < len(names) else positive
    plot = P.two_class_roc_plot(
        {k: (v["fpr"], v["tpr"], v["roc_auc"]) for k, v in curves.items()},
        run.plot_dir / "two_class_roc.png",
        title=f"signal: {name}, {int((labels[in_dist] == positive).sum())} of "
        f"{int(in_dist.sum())} test rows",
    )
    return metrics, {"Two-class ROC": plot}


def anomaly_pictures(run: Run) -> tuple[dict, Plots]:
    """ROC curves and histograms of the anomaly scores (held-out classes, shift)."""
    if not run.held_out and run.shifted is None:
        return {}, {}
    from ssl_core.evaluate import plots as P

    a, in_dist, space = run.arrays[run.space], run.in_dist, run.space
    curves, groups = {}, {"in-distribution test": a["scores_test"][in_dist]}
    if run.held_out:
        curves["held-out class"] = (a["scores_test"][in_dist], a["scores_test"][~in_dist])
        groups["held-out class"] = a["scores_test"][~in_dist]
    if run.shifted is not None:
        clean, shifted = a["scores_test"][in_dist], a["scores_shifted"][in_dist]
        curves[f"shifted ({run.meta.get('shift')}) vs clean"] = (clean, shifted)
        groups["shifted test"] = shifted
    return {}, {
        "Anomaly ROC": P.roc_plot(
            curves, run.plot_dir / "anomaly_roc.png", f"Mahalanobis scores ({space})"
        ),
        "Anomaly scores": P.score_histogram(
            groups, run.plot_dir / "anomaly_scores.png", f"Anomaly scores ({space})"
        ),
    }


def training_curves(run: Run) -> tuple[dict, Plots]:
    """The training log's curves (``metrics.csv``), when found."""
    from ssl_core.evaluate import plots as P

    curve = P.training_curves(run.metrics_csv, run.plot_dir / "training_curves.png")
    return {}, ({"Training curves": curve} if curve is not None else {})


def split_probes(run: Run) -> tuple[dict, Plots]:
    """``split_probes`` (``--splits DIR``, docs/evaluation.md); a split whose labeled samples
    are not all in the embeddings is listed under ``skipped``."""
    from ssl_core.splits import LabelSplit

    train, test, s = run.train, run.test, run.settings
    row = {name: i for i, name in enumerate(train.ids)}
    probes: dict[str, Any] = {"skipped": []}
    for path in sorted(Path(s["splits"]).glob("*.json")):
        split = LabelSplit.load(path)
        if any(p not in row for p, _ in split.labeled):
            probes["skipped"].append(path.stem)
            continue
        idx = np.array([row[p] for p, _ in split.labeled])
        x, y = train.features[idx], np.array([label for _, label in split.labeled])
        if not np.array_equal(train.labels[idx], y):
            raise ValueError(
                f"the labels of {path} differ from those of the embeddings: embeddings of "
                "other data or another class order"
            )
        known = np.isin(test.labels, np.unique(y))  # as the probes: classes the bank holds
        xt, yt = test.features[known], test.labels[known]
        with step(run.log, f"split {path.stem}: kNN and linear probe on {len(idx)} labels"):
            knn = {"top1": knn_accuracy(x, y, xt, yt, run.num_classes, s["k"], s["t"])["top1"]}
            probe = M.linear_probe(x, y, xt, yt)
        linear = {"top1": probe["top1"]}
        signal = run.meta.get("signal_class")
        if signal is not None and len(run.class_names or ()) == 2:
            votes = knn_scores(xt, x, y, run.num_classes, s["k"], s["t"])[:, signal]
            proba = probe["proba"][:, list(probe["classes"]).index(signal)]
            for out, score in ((knn, votes), (linear, proba)):
                figures = two_class_scores(yt, score, signal)
                out.update({key: figures[key] for key in TWO_CLASS_KEYS})
        probes[path.stem] = {
            "fraction": split.fraction, "seed": split.seed, "num_labeled": len(idx),
            "knn": knn, "linear": linear,
        }  # fmt: skip
    return {"split_probes": probes}, {}


def masks(run: Run) -> tuple[dict, Plots]:
    """Segmentation: scores of the written masks (:mod:`ssl_core.evaluate.segmentation`)."""
    from ssl_core.evaluate.segmentation import mask_scores

    return mask_scores(run)


#: The built-in evaluators, in the order they run.
EVALUATORS: tuple[Evaluator, ...] = (
    Evaluator(masks, "masks"),
    Evaluator(per_space),
    Evaluator(pictures),
    Evaluator(two_class, "embeddings", "two_classes"),
    Evaluator(anomaly_pictures),
)
#: Run after a dataset's own evaluators.
LAST = (Evaluator(training_curves, "metrics_csv"), Evaluator(split_probes, "embeddings", "splits"))


def dataset_evaluators(names: list[str]) -> list[Evaluator]:
    """The evaluators a dataset names (``module:Class``), instantiated."""
    import importlib

    out = []
    for name in names:
        module, _, attr = name.partition(":")
        try:
            out.append(getattr(importlib.import_module(module), attr)())
        except (ImportError, AttributeError) as err:
            raise ValueError(
                f"evaluator {name!r} of the run's dataset cannot be loaded ({err}): is its "
                "project installed (`uv sync`)?"
            ) from None
    return out
