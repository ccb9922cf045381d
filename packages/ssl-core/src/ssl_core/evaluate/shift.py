"""One trained model on two data sets: how much of what it learned carries over.
Details: docs/evaluation.md, "Domain shift between two data sets".

- [0] Lopez-Paz, Oquab, Revisiting Classifier Two-Sample Tests, ICLR 2017,
  https://arxiv.org/abs/1610.06545
- [1] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys. 7,
  014 (2019) (ROC AUC, 1/eps_B at eps_S = 0.3)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ssl_core.embeddings import EmbeddingsError, SplitEmbeddings, load_embeddings, load_logits
from ssl_core.errors import exits_on_input_errors
from ssl_core.evaluate import metrics as M
from ssl_core.evaluate.report import number
from ssl_core.two_class import TWO_CLASS_KEYS, bootstrap, two_class_scores

#: The working point carried from the reference to the shifted set.
WORKING_EFFICIENCY = 0.3
_cell = partial(number, none="-")  # shift.md's empty cell


@dataclass
class Scored:
    """The rows of one set (``reference`` or ``shifted``) with the model's scores."""

    name: str
    rows: SplitEmbeddings
    proba: np.ndarray  # class probabilities (N, C)
    root: str | None  # meta.json's data_root
    source: str  # what made proba: the classifier or the reference's probe

    @property
    def labels(self) -> np.ndarray:
        return self.rows.labels

    @property
    def labeled(self) -> np.ndarray:
        return self.rows.labels >= 0


def read_run(spec: str, scored_only: bool) -> tuple[dict, SplitEmbeddings, Any, dict]:
    """``RUN`` or ``RUN:SPLIT`` -> (splits, the split's rows, their logits or None, meta)."""
    run, _, split = spec.partition(":")
    directory = Path(run) / "embeddings"
    splits, meta = load_embeddings(directory, scored_only=scored_only)
    split = split or "test"
    if split not in splits:
        raise EmbeddingsError(f"{directory} has no {split} split (it has {sorted(splits)})")
    return splits, splits[split], load_logits(directory, split, len(splits[split])), meta


def fit_probe(x: np.ndarray, y: np.ndarray, seed: int = 0) -> Callable:
    """Logistic regression on standardized rows, fitted; returns ``proba(rows)`` ``(N,
    max(y) + 1)`` (zero for classes absent from ``y``)."""
    probe = M.probe(max_iter=2000, seed=seed).fit(x, y)

    def proba(rows: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), int(probe.classes_.max()) + 1))
        out[:, probe.classes_] = probe.predict_proba(rows)
        return out

    return proba


def score_both(reference: str, shifted: str, space: str) -> tuple[Scored, Scored, dict]:
    """Both sets' class probabilities (the classifier's, else a probe's) and reference meta."""
    ref_splits, ref_rows, ref_logits, ref_meta = read_run(reference, scored_only=False)
    _, new_rows, new_logits, new_meta = read_run(shifted, scored_only=True)
    if ref_logits is not None and new_logits is not None:
        from scipy.special import softmax

        proba = softmax(ref_logits, axis=1), softmax(new_logits, axis=1)
        source = "classifier"
    else:
        train = ref_splits["train"]
        fit = train.labeled & (train.labels >= 0)
        probe = fit_probe(train.space(space)[fit], train.labels[fit])
        proba = probe(ref_rows.space(space)), probe(new_rows.space(space))
        source = f"linear probe on the reference training {space}"
    return (
        Scored("reference", ref_rows, proba[0], ref_meta.get("data_root"), source),
        Scored("shifted", new_rows, proba[1], new_meta.get("data_root"), source),
        ref_meta,
    )


def task_metrics(labels: np.ndarray, proba: np.ndarray, signal: int | None) -> dict:
    """Two classes (``signal`` given): ROC AUC, ``1/eps_B`` at ``eps_S`` = 0.3, 0.5 and
    the number of background rows; else top-1 accuracy."""
    if signal is None:
        return {"accuracy": float(np.mean(proba.argmax(axis=1) == labels))}
    figures = two_class_scores(labels, proba[:, signal], signal)
    out = {"roc_auc": figures["roc_auc"], "n_background": int((labels != signal).sum())}
    return out | {key: figures[key] for key in TWO_CLASS_KEYS[1:]}


def standard_errors(
    labels: np.ndarray, metric: Callable[[np.ndarray], dict], times: int, seed: int = 0
) -> dict[str, float | None]:
    """Bootstrap standard errors of ``metric(rows)``'s values (:func:`bootstrap`);
    ``None`` where a resample had no finite value."""
    return {
        k: (float(np.std(v, ddof=1)) if np.isfinite(v).all() and len(v) > 1 else None)
        for k, v in bootstrap(labels, metric, times, seed).items()
    }


def with_errors(scored: Scored, signal: int | None, times: int) -> dict:
    """:func:`task_metrics` of the labeled rows and their bootstrap errors (``_err``)."""
    labels, proba = scored.labels[scored.labeled], scored.proba[scored.labeled]
    out = {"rows": len(labels)}
    if len(np.unique(labels)) < (2 if signal is not None else 1):
        return out
    out |= task_metrics(labels, proba, signal)
    errors = standard_errors(labels, lambda r: task_metrics(labels[r], proba[r], signal), times)
    return out | {f"{k}_err": v for k, v in errors.items() if k != "n_background"}


def carried_working_point(reference: Scored, shifted: Scored, signal: int) -> dict:
    """The reference's cut at ``eps_S`` = 0.3 applied unchanged to the shifted rows."""
    ref_signal = reference.proba[reference.labels == signal, signal]
    cut = float(np.quantile(ref_signal, 1 - WORKING_EFFICIENCY))
    score, y = shifted.proba[shifted.labeled, signal], shifted.labels[shifted.labeled] == signal
    eps_s = float(np.mean(score[y] > cut)) if y.any() else None
    eps_b = float(np.mean(score[~y] > cut)) if (~y).any() else None
    ref_b = reference.proba[reference.labels != signal, signal]
    return {
        "cut": cut,
        "reference_eps_s": float(np.mean(ref_signal > cut)),
        "reference_eps_b": float(np.mean(ref_b > cut)),
        "shifted_eps_s": eps_s,
        "shifted_eps_b": eps_b,
        "shifted_rejection": (1.0 / eps_b) if eps_b else None,
        "shifted_passing_all": int((shifted.proba[:, signal] > cut).sum()),
        "shifted_rows": len(shifted.proba),
    }


def score_of(scored: Scored, signal: int | None) -> np.ndarray:
    """The signal class's probability (two classes), else the predicted class's."""
    return scored.proba[:, signal] if signal is not None else scored.proba.max(axis=1)


def score_tests(
    reference: Scored, shifted: Scored, class_names: list[str], signal: int | None
) -> list[dict]:
    """Kolmogorov-Smirnov tests of the scores (:func:`score_of`) between the sets."""
    from scipy.stats import ks_2samp

    groups = [(c, reference.labels == i, shifted.labels == i) for i, c in enumerate(class_names)]
    if not shifted.labeled.any():
        groups = [("all rows", slice(None), slice(None))]
    out = []
    for name, ref_rows, new_rows in groups:
        a, b = score_of(reference, signal)[ref_rows], score_of(shifted, signal)[new_rows]
        if len(a) and len(b):
            test = ks_2samp(a, b)
            out.append({"class": name, "n_reference": len(a), "n_shifted": len(b),
                        "ks": float(test.statistic), "p_value": float(test.pvalue)})  # fmt: skip
    return out


def domain_classifier(reference: Scored, shifted: Scored, space: str, seed: int = 0) -> dict:
    """AUC of a domain classifier (docs/evaluation.md) and its bootstrap error. A sample's
    two versions (a corrupted copy of the test set) stay in one fold."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    n = min(len(reference.labels), len(shifted.labels))
    rows = [(s, rng.permutation(len(s.labels))[:n]) for s in (reference, shifted)]
    x = np.concatenate([s.rows.space(space)[r] for s, r in rows])
    y = np.r_[np.zeros(n), np.ones(n)]
    paired = reference.root == shifted.root
    ids = [s.rows.ids[r] if paired else np.char.add(f"{s.name}:", s.rows.ids[r].astype(str))
           for s, r in rows]  # fmt: skip
    groups = np.unique(np.concatenate(ids), return_inverse=True)[1]
    folds = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
    probe = M.probe(max_iter=2000)
    p = cross_val_predict(probe, x, y, groups=groups, cv=folds, method="predict_proba")[:, 1]
    err = standard_errors(y, lambda r: {"auc": roc_auc_score(y[r], p[r])}, 200, seed)["auc"]
    return {"auc": float(roc_auc_score(y, p)), "auc_err": err, "rows_each": n}


def refit(shifted: Scored, space: str, signal: int | None, seed: int = 0) -> dict | None:
    """A probe fitted on half the shifted labeled rows, scored on the other (stratified)."""
    from sklearn.model_selection import train_test_split

    keep = np.flatnonzero(shifted.labeled)
    labels = shifted.labels[keep]
    if len(keep) < 20 or len(np.unique(labels)) < 2:
        return None
    fit, test = train_test_split(keep, test_size=0.5, stratify=labels, random_state=seed)
    x = shifted.rows.space(space)
    proba = fit_probe(x[fit], shifted.labels[fit])(x[test])
    return {"rows": len(test), **task_metrics(shifted.labels[test], proba, signal)}


def shift_report(
    reference: str, shifted: str, out: str | Path, space: str = "features", times: int = 200
) -> dict:
    """Write ``out/shift.json``, ``out/shift.md`` and plots; return the figures."""
    ref, new, meta = score_both(reference, shifted, space)
    n_classes = ref.proba.shape[1]
    names = list(meta.get("class_names") or [str(i) for i in range(n_classes)])
    signal = meta.get("signal_class")  # two-class figures where the source names a signal
    signal = int(signal) if signal is not None and n_classes == 2 else None
    report: dict = {
        "reference": {"run": reference, "data_root": ref.root},
        "shifted": {"run": shifted, "data_root": new.root},
        "score": ref.source,
        "space": space,
        "bootstrap": times,
        "task": {s.name: with_errors(s, signal, times) for s in (ref, new)},
        "score_tests": score_tests(ref, new, names, signal),
        "domain_classifier": domain_classifier(ref, new, space),
        "refit_on_shifted_labels": refit(new, space, signal),
    }
    if signal is not None and new.labeled.any():
        report["working_point"] = carried_working_point(ref, new, signal)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report["plots"] = [str(p) for p in plots(ref, new, signal, names, out)]
    (out / "shift.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "shift.md").write_text(markdown(report))
    return report


def plots(ref: Scored, new: Scored, signal: int | None, names: list[str], out: Path) -> list[Path]:
    """Score distributions of both sets per class (and their ROC curves on two classes)."""
    import matplotlib.pyplot as plt

    from ssl_core.evaluate.plots import save, two_class_roc_plot

    fig, ax = plt.subplots(figsize=(6.5, 4))
    bins = np.linspace(0, 1, 41)
    for s, style in ((ref, "-"), (new, "--")):
        score = score_of(s, signal)
        classes = [(n, s.labels == i) for i, n in enumerate(names)] if s.labeled.any() else []
        for name, rows in classes or [("all", np.ones(len(score), bool))]:
            if rows.any():
                ax.hist(score[rows], bins=bins, histtype="step", density=True, ls=style,
                        label=f"{s.name}: {name} (n={rows.sum()})")  # fmt: skip
    ax.set_xlabel(f"{names[signal]} probability" if signal is not None else "max probability")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    paths = [save(fig, out / "shift_scores.png")]
    if signal is not None and new.labeled.any():
        curves = {}
        for s in (ref, new):
            f = two_class_scores(s.labels[s.labeled], s.proba[s.labeled, signal], signal)
            curves[s.name] = (f["fpr"], f["tpr"], f["roc_auc"])
        paths.append(
            two_class_roc_plot(curves, out / "shift_roc.png", "the same model on both sets")
        )
    return paths


def markdown(report: dict) -> str:
    """``shift.md``: the tables of :func:`shift_report`."""
    ref, new = report["task"]["reference"], report["task"]["shifted"]
    keys = [k for k in ("roc_auc", "rejection_eff30", "rejection_eff50", "accuracy") if k in ref]
    lines = [
        "# Domain shift: one model on two data sets",
        "",
        f"- reference: `{report['reference']['run']}` (data `{report['reference']['data_root']}`)",
        f"- shifted: `{report['shifted']['run']}` (data `{report['shifted']['data_root']}`)",
        f"- score: {report['score']}; errors: bootstrap standard errors "
        f"({report['bootstrap']} resamples within each class)",
        "",
        "| | reference | shifted |",
        "|---|---|---|",
        f"| rows | {ref['rows']} | {new['rows']} |",
    ]
    if "n_background" in ref:
        lines.append(
            f"| background rows (1/eps_B) | {ref['n_background']} | {new.get('n_background', '-')} |"
        )
    for k in keys:
        digits = 1 if k.startswith("rejection") else 4
        cells = []
        for side in (ref, new):
            if side.get(k) is None and k.startswith("rejection") and side.get("n_background"):
                cells.append(f"> {side['n_background']} (no background passes)")
            else:
                cells.append(_cell(side.get(k), digits, side.get(k + "_err")))
        lines.append(f"| {k} | {cells[0]} | {cells[1]} |")
    wp = report.get("working_point")
    if wp:
        lines += [
            "",
            f"Working point carried over: the cut at eps_S = {WORKING_EFFICIENCY} on the "
            f"reference (score > {wp['cut']:.4f}) gives eps_S = {_cell(wp['shifted_eps_s'])}, "
            f"eps_B = {_cell(wp['shifted_eps_b'], 4)} (1/eps_B = "
            f"{_cell(wp['shifted_rejection'], 1)}) on the shifted set "
            f"(reference: {_cell(wp['reference_eps_s'])}, {_cell(wp['reference_eps_b'], 4)}).",
        ]
    lines += ["", "| score two-sample test (KS) | n reference | n shifted | KS distance | p-value |",
              "|---|---|---|---|---|"]  # fmt: skip
    for t in report["score_tests"]:
        lines.append(f"| {t['class']} | {t['n_reference']} | {t['n_shifted']} | "
                     f"{t['ks']:.3f} | {t['p_value']:.2g} |")  # fmt: skip
    dc = report["domain_classifier"]
    lines += [
        "",
        f"Embedding two-sample test: a domain classifier on the {report['space']} tells "
        f"the sets apart with AUC {_cell(dc['auc'], err=dc['auc_err'])} ({dc['rows_each']} rows "
        "of each; 0.5 = no difference the model sees).",
    ]
    refit_rows = report.get("refit_on_shifted_labels")
    if refit_rows:
        shown = ", ".join(
            f"{k} {_cell(v, 1 if k.startswith('rejection') else 4)}"
            for k, v in refit_rows.items()
            if k != "rows"
        )
        lines += ["", f"Refit on the shifted labels (a probe fitted on half the shifted rows, "
                      f"scored on the other {refit_rows['rows']}; not transfer): {shown}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ssl_core.evaluate.shift", description=__doc__.splitlines()[0]
    )
    parser.add_argument("reference", help="the reference run folder (RUN, or RUN:SPLIT)")
    parser.add_argument(
        "shifted",
        help="the shifted run folder (another root scored with --data.test_on all), or "
        "REFERENCE:test_shifted (a --data.shift copy)",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--space", choices=("features", "projection"), default="features")
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for the errors")
    ns = parser.parse_args(args)
    with exits_on_input_errors("shift"):
        shift_report(ns.reference, ns.shifted, ns.out, ns.space, ns.bootstrap)
    print((ns.out / "shift.md").read_text(), end="")


if __name__ == "__main__":
    main()
