"""Many runs of a project side by side, baselines first: the one reporting module. It
reads numbers the stages wrote (``metrics.json``, training logs) and fits nothing.
Details: docs/pipelines.md, "The label-fraction comparison".

- [0] Oliver et al. 2018, arXiv:1804.09170, figure 4 (``compare.png``)
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ssl_core.errors import BadInputError, MissingInputError, exits_on_input_errors
from ssl_core.evaluate.report import number

#: The baselines every other row is read against (``random-init`` or ``random-init, <how>``).
RANDOM_INIT, SUPERVISED = "random-init", "supervised"
RANDOM_KNN, RANDOM_LINEAR = f"{RANDOM_INIT}, kNN", f"{RANDOM_INIT}, linear probe"
#: The series baseline without deep learning (:mod:`ssl_core.series.minirocket`).
MINIROCKET = "MiniRocket (no deep learning)"
#: How a comparison's headline metrics read in tables and plots.
METRIC_NAMES = {
    "test_top1": "test top-1 (classifier)",
    "test_iou": "test foreground IoU",
    "test_roc_auc": "test ROC AUC (classifier)",
    "test_rejection_eff30": "test background rejection 1/eps_B at eps_S = 0.3",
    "test_rejection_eff50": "test background rejection 1/eps_B at eps_S = 0.5",
}


def untrained(name: str) -> bool:
    """Whether the row ``name`` trains nothing (a random-init baseline)."""
    return name == RANDOM_INIT or name.startswith(f"{RANDOM_INIT},")


def baseline_order(name: str) -> tuple[int, str]:
    """Sort key: random-init and MiniRocket rows, supervised, then the rest by name."""
    return (0 if untrained(name) or name == MINIROCKET else 1 if name == SUPERVISED else 2, name)


PARTS = ("start", "fit", "predict", "evaluate", "total")


def final_metrics(metrics_csv: Path) -> dict[str, float]:
    """The last logged value of every column of a Lightning CSV log (not the best one)."""
    table = pd.read_csv(metrics_csv)
    if table.empty:  # a run that stopped before logging anything
        return {}
    last = table.ffill().iloc[-1].dropna()
    return {key: float(value) for key, value in last.items()}


@dataclass
class Row:
    """One stage folder: its name, minutes per part, and headline numbers."""

    name: str
    minutes: dict[str, float]
    knn_top1: float | None
    linear_top1: float | None
    val_knn_top1: float | None
    classifier_top1: float | None


def collect(results: Path) -> list[Row]:
    """A :class:`Row` per folder of ``results`` holding a ``metrics.json``, baselines first."""
    rows = []
    for metrics_json in sorted(Path(results).glob("*/metrics.json")):
        metrics = json.loads(metrics_json.read_text())
        log = metrics_json.parent / "train" / "metrics.csv"
        final = final_metrics(log) if log.is_file() else {}
        seconds = metrics.get("seconds", {})
        rows.append(
            Row(
                name=metrics_json.parent.name,
                minutes={k: seconds[k] / 60 for k in PARTS if k in seconds},
                knn_top1=metrics.get("knn_top1"),
                linear_top1=metrics.get("linear_top1"),
                val_knn_top1=final.get("val/knn_top1"),
                classifier_top1=final.get("val/top1"),
            )
        )
    if not rows:
        raise MissingInputError(
            f"no */metrics.json under {results}: run `dvc repro` (or `dvc pull`) first"
        )
    return sorted(rows, key=lambda r: baseline_order(r.name))


def summary_markdown(folders: Sequence[Path]) -> str:
    """The pipeline's summary: every project's pairs and a link to its ``compare.md``."""
    parts = ["# Results of the pipeline\n\nWritten by `python -m ssl_core.results` (root stage "
             "`summary`) from the metrics the stages wrote; docs/results.md reads them.\n"]  # fmt: skip
    for folder in map(Path, folders):
        parts.append(f"\n## {folder.name}\n\n" + pairs_markdown(collect(folder)))
        if (folder / "compare.md").is_file():
            parts.append(f"\nLabel-fraction comparison: [compare.md]({folder.name}/compare.md)\n")
    return "".join(parts)


def pairs_markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table, and the sum of the stages' minutes."""
    lines = [
        "| pair | " + " | ".join(f"{p} (min)" for p in PARTS) + " | test kNN top-1 | test "
        "linear probe top-1 | val kNN top-1 | val classifier top-1 |",
        "|---|" + "---|" * (len(PARTS) + 4),
    ]
    for r in rows:
        name = f"**{r.name}**" if baseline_order(r.name)[0] < 2 else r.name
        cells = [number(r.minutes.get(p), 1) for p in PARTS]
        cells += [number(v) for v in (r.knn_top1, r.linear_top1, r.val_knn_top1, r.classifier_top1)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    total = sum(r.minutes.get("total", 0.0) for r in rows)
    lines += ["", f"{len(rows)} stages, {total:.1f} min in all (their own times)."]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Run:
    """One run of the comparison: a method on one label split."""

    method: str
    split: str
    fraction: float
    seed: int | None
    num_labeled: int | None
    value: float  # the headline test metric (``metric``)
    metric: str = "test_top1"
    seconds: float | None = None  # stage time; none for rows that train nothing
    budget: tuple[str | None, int | None] = (None, 0)  # (budget, optimizer steps trained)


@dataclass(frozen=True)
class Cell:
    """The runs of one method and fraction, over seeds."""

    mean: float
    std: float | None  # sample standard deviation; None with one seed
    n: int
    num_labeled: int | None


def baseline_run(method: str, split: str, entry: dict, value: float, metric: str) -> Run:
    """A row that trains nothing, of ``split`` (``entry``: its fraction, seed, num_labeled)."""
    return Run(method, split, entry["fraction"], entry["seed"], entry["num_labeled"], value, metric)


def load_runs(compare_dir: Path, metric: str | None = None) -> list[Run]:
    """Every ``compare_dir/*/metrics.json``, valued by ``metric`` (default: each run's own)."""
    runs = []
    for path in sorted(Path(compare_dir).glob("*/metrics.json")):
        m = json.loads(path.read_text())
        if metric is not None and m.get(metric) is None:
            raise BadInputError(f"{path} has no {metric}")
        key = metric or m.get("metric", "test_top1")
        row = (m["method"], m["split"], float(m["fraction"]), m.get("seed"), m.get("num_labeled"))
        time, budget = m.get("seconds", {}).get("total"), (m.get("budget"), m.get("steps"))
        runs.append(Run(*row, float(m[key]), key, time, budget))
    return runs


def frozen_runs(
    folder: Path,
    names: list[str],
    label: str = RANDOM_INIT,
    metric: str = "test_top1",
    skipped: list[str] | None = None,
) -> list[Run]:
    """Rows ``<label>, kNN`` and ``<label>, linear probe`` per split of ``names``, from
    ``split_probes`` of ``folder/metrics.json`` (``evaluate --splits``; ``folder`` may be
    an ``embeddings/``). ``skipped``: collects the splits evaluate skipped (no error).

    Raises:
        FileNotFoundError: no ``metrics.json`` in ``folder``.
        ValueError: no probes of a split, or not the ``metric``.
    """
    folder = Path(folder)
    folder = folder.parent if folder.name == "embeddings" else folder
    path = folder / "metrics.json"
    if not path.is_file():
        raise MissingInputError(f"no metrics.json in {folder}: run its stage first")
    probes = json.loads(path.read_text()).get("split_probes")
    hint = (
        f"run `evaluate {folder} --splits projects/<project>/splits` (the random-init stage does)"
    )
    if probes is None:
        raise BadInputError(f"{path} has no split_probes: {hint}")
    key = "top1" if metric == "test_top1" else metric.removeprefix("test_")
    runs = []
    for name in sorted(set(names)):
        if name not in probes:
            if skipped is not None and name in probes.get("skipped", []):
                skipped.append(name)
                continue
            raise BadInputError(f"{path} has no probes of split {name}: {hint}")
        e = probes[name]
        for how, method in (("knn", f"{label}, kNN"), ("linear", f"{label}, linear probe")):
            if key not in e[how]:
                raise BadInputError(f"{path}: split {name} has no {key} (two-class data only)")
            value = e[how][key]
            if value is not None:  # a rejection is None when no background passes
                runs.append(baseline_run(method, name, e, float(value), metric))
    return runs


def baseline_runs(
    random_init: Path, runs: list[Run], skipped: list[str] | None = None
) -> list[Run]:
    """The random-init rows of the splits of ``runs``, from the random-init stage's
    folder: classification per split (:func:`frozen_runs`, and :data:`MINIROCKET` where
    written); segmentation one value (its masks' score), the same at every split."""
    folder = Path(random_init)
    metrics_json = folder / "metrics.json"
    if not metrics_json.is_file():
        raise MissingInputError(f"no metrics.json under {folder}: run the random-init stage")
    scored = json.loads(metrics_json.read_text())
    if "split_probes" in scored or (folder / "embeddings").is_dir():
        metric = runs[0].metric if runs else "test_top1"
        rows = frozen_runs(folder, [r.split for r in runs], metric=metric, skipped=skipped)
        scored_splits = scored.get("minirocket") or {}
        if metric == "test_top1":  # MiniRocket scores top-1 only
            for name in sorted({r.split for r in runs} & set(scored_splits)):
                e = scored_splits[name]
                rows.append(baseline_run(MINIROCKET, name, e, float(e["top1"]), metric))
        return rows
    metric = runs[0].metric if runs else "test_iou"
    if metric.removeprefix("test_") not in scored:  # evaluate's keys: iou, dice, ...
        raise BadInputError(f"{metrics_json} has no {metric.removeprefix('test_')} for {metric}")
    value = float(scored[metric.removeprefix("test_")])
    seen = {r.fraction: r for r in runs}.values()  # one measurement: one row per fraction, n=1
    return [
        Run(RANDOM_INIT, r.split, r.fraction, r.seed, r.num_labeled, value, metric) for r in seen
    ]


def spread(values: Sequence[float], num_labeled: int | None = None) -> Cell:
    """Mean, sample standard deviation (``ddof=1``; none with one value) and count."""
    std = statistics.stdev(values) if len(values) > 1 else None
    return Cell(statistics.fmean(values), std, len(values), num_labeled)


def summarize(runs: list[Run]) -> dict[tuple[str, float], Cell]:
    """Mean, sample standard deviation and count of the metric per method and fraction."""
    groups: dict[tuple[str, float], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.method, run.fraction), []).append(run)
    cells = {}
    for key, group in groups.items():
        labeled = [r.num_labeled for r in group if r.num_labeled is not None]
        labeled = round(statistics.fmean(labeled)) if labeled else None
        cells[key] = spread([r.value for r in group], labeled)
    return cells


def methods_of(cells: dict[tuple[str, float], Cell]) -> list[str]:
    """The methods of ``cells``: the baseline first, then by name."""
    return sorted({method for method, _ in cells}, key=baseline_order)


def cell_text(cell: Cell | None) -> str:
    """``mean ± std (n)``, the cell of every table of many runs; ``–`` for none."""
    return "–" if cell is None else f"{number(cell.mean, err=cell.std)} ({cell.n})"


def metric_name(runs: list[Run]) -> str:
    """How the runs' headline metric reads (``test top-1 (classifier)``, ...)."""
    metric = runs[0].metric if runs else "test_top1"
    return METRIC_NAMES.get(metric, metric)


def markdown(
    runs: list[Run],
    missing: list[str],
    title: str = "",
    plot: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """``compare.md``: the table, the stage time, the missing runs, ``notes``, the plot."""
    cells = summarize(runs)
    name = metric_name(runs)
    fractions = sorted({f for _, f in cells})
    labels = {
        f: next((c.num_labeled for (_, g), c in cells.items() if g == f), None) for f in fractions
    }
    header = [
        f"{labels[f]} labels"  # a split by count (n100-seed0): its count is the column
        if labels[f] is not None and all(r.split.startswith("n") for r in runs if r.fraction == f)
        else f"{f:.0%}" + (f" ({labels[f]} labels)" if labels[f] is not None else "")
        for f in fractions
    ]
    trained = [r for r in runs if r.seconds is not None]  # the comparison's runs: timed
    minutes: dict[str, float] = {}
    for run in trained:
        minutes[run.method] = minutes.get(run.method, 0.0) + run.seconds / 60
    intro = (
        f"{name[0].upper()}{name[1:]} after the last step (`last.ckpt`), mean ± standard "
        "deviation over the split seeds (sample, ddof=1) and (in brackets) the number of seeds."
    )
    if 1.0 in fractions:
        intro += " The 100% column is the ceiling: every label."
    if any(untrained(m) for m, _ in cells):
        intro += " The random-init rows train nothing: the untrained network" + (
            "'s features, classified by a kNN vote or a linear probe fit on the same labeled "
            "samples." if any(m != RANDOM_INIT and untrained(m) for m, _ in cells)
            else "'s own predictions."
        )  # fmt: skip
    lines = [
        f"# {title or 'Label-fraction comparison'}",
        "",
        intro,
        "",
        "| method | " + " | ".join(header) + " | stage time (min, all its runs) |",
        "|---|" + "---|" * (len(fractions) + 1),
    ]
    for method in methods_of(cells):
        row = [cell_text(cells.get((method, f))) for f in fractions]
        time = f"{minutes[method]:.1f}" if method in minutes else "–"
        lines.append(f"| {method} | " + " | ".join(row) + f" | {time} |")
    total = sum(r.seconds for r in trained)
    lines += [
        "",
        f"{len(trained)} run{'s' * (len(trained) != 1)}, {total / 3600:.2f} h of stage time in all "
        f"({total:.0f} s: the sum of their `seconds.total`).",
    ]
    frozen = sorted({m.split(",")[0] for m, _ in cells if "," in m and not untrained(m)})
    if frozen:
        lines += [
            "",
            f"Rows `{', '.join(frozen)}, kNN` and `..., linear probe`: that pretrained "
            "space's frozen features with each split's labels (a kNN vote, a logistic "
            "regression), scored on the same metric; its pretraining time is not counted.",
        ]
    for note in notes:
        lines += ["", note]
    if missing:
        lines += ["", f"Missing ({len(missing)} runs, no `metrics.json` yet):", ""]
        lines += [f"- {name}" for name in missing]
    if plot:
        lines += ["", f"![{name} against the number of labels]({plot})"]
    return "\n".join(lines) + "\n"


def plot(runs: list[Run], path: Path, title: str = "") -> Path:
    """``compare.png`` (docs/pipelines.md, "The label-fraction comparison")."""
    import matplotlib.pyplot as plt

    from ssl_core.evaluate.plots import save

    cells = summarize(runs)
    by_labels = all(c.num_labeled is not None for c in cells.values())
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    cmap = plt.get_cmap("tab10")
    methods = methods_of(cells)
    ticks = set()
    greys = {m: str(0.3 + 0.25 * (i % 3)) for i, m in enumerate(filter(untrained, methods))}
    trained = [m for m in methods if not untrained(m)]  # their colours, baselines or not
    for i, method in enumerate(methods):
        color = greys.get(method) or cmap(trained.index(method) % cmap.N)
        style = ":" if untrained(method) else "-"
        points = sorted((f, c) for (m, f), c in cells.items() if m == method and f < 1.0)
        if points:
            x = [c.num_labeled if by_labels else f for f, c in points]
            ticks.update(x)
            dodge = 1.04 ** (i - (len(methods) - 1) / 2)  # error bars side by side, not on top
            y, err = [c.mean for _, c in points], [c.std or 0.0 for _, c in points]
            x = [v * dodge for v in x]
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, color=color, ls=style, label=method)
        ceiling = cells.get((method, 1.0))
        if ceiling is not None and "," not in method:  # trained runs'; frozen rows: the table
            n = f", {ceiling.num_labeled} labels" if ceiling.num_labeled else ""
            label = f"{method}, 100%{n} (ceiling)"
            ax.axhline(ceiling.mean, ls="--", lw=1.2, color=color, label=label)
    ax.set_xscale("log")
    ax.set_xticks(sorted(ticks), [f"{v:g}" for v in sorted(ticks)])
    ax.minorticks_off()
    ax.set_xlabel("labeled training samples" if by_labels else "fraction of labeled samples")
    ax.set_ylabel(f"{metric_name(runs)}, last step")
    title = title or f"{metric_name(runs)} against the number of labels"
    ax.set_title(f"{title}\n(mean over split seeds, error bars: standard deviation)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return save(fig, path)


def report(
    results: Path,
    params: Path | None = None,
    out: Path | None = None,
    random_init: Path | None = None,
    metric: str | None = None,
    frozen: Sequence[tuple[str, Path]] = (),
) -> Path:
    """Write ``compare.md`` and ``compare.png`` of ``results/compare`` into ``out``
    (default ``results``); return the path of ``compare.md``. With ``params``, only the
    runs its ``comparison`` asks for (DVC keeps ``persist`` outputs of runs it no longer
    names). ``frozen``: ``(name, folder)`` pairs for :func:`frozen_runs`.

    Raises:
        FileNotFoundError: no ``compare/*/metrics.json`` under ``results``.
        ValueError: the runs were trained at different budgets or step counts, or report
            different metrics: their mean would mean nothing.
    """
    results = Path(results)
    out = Path(out) if out else results
    runs = load_runs(results / "compare", metric)
    if not runs:
        raise MissingInputError(
            f"no compare/*/metrics.json under {results}: run its compare stages first "
            f"(`dvc repro --glob 'projects/{results.name}/dvc.yaml:compare-*'`)"
        )
    expected = []  # the runs params.yaml's ``comparison.runs`` (method -> splits) asks for
    if params and Path(params).is_file():
        comparison = (yaml.safe_load(Path(params).read_text()) or {}).get("comparison") or {}
        expected = [(m, s) for m, splits in (comparison.get("runs") or {}).items() for s in splits]
    if expected:
        runs = [r for r in runs if (r.method, r.split) in set(expected)]
        if not runs:
            raise MissingInputError(f"none of the runs {params} asks for is under {results}")
    budgets = sorted({r.budget for r in runs}, key=str)
    metrics = sorted({r.metric for r in runs})
    if len(metrics) > 1:
        raise BadInputError(
            f"the runs under {results / 'compare'} report different metrics: {metrics}"
        )
    if len(budgets) > 1:
        raise BadInputError(
            f"the runs under {results / 'compare'} were trained at different (budget, "
            f"steps): {budgets}; rerun the stale ones (`dvc repro --glob "
            f"'projects/{results.name}/dvc.yaml:compare-*'`)"
        )
    done = {(r.method, r.split) for r in runs}
    missing = [
        f"{method} {split} (`dvc repro projects/{results.name}/dvc.yaml:compare-{method}`)"
        for method, split in expected
        if (method, split) not in done
    ]
    notes = []
    if random_init is not None:
        # at budget smoke the random-init stage embeds too few images for the splits
        skipped: list[str] | None = [] if {r.budget[0] for r in runs} == {"smoke"} else None
        runs = baseline_runs(random_init, runs, skipped) + runs
        if skipped:
            notes.append(
                f"No random-init baseline for {', '.join(sorted(set(skipped)))}: their labeled "
                "images are not all in the random-init embeddings (budget smoke embeds a "
                "few images per class)."
            )
    if any(r.method == MINIROCKET for r in runs):
        notes.append(
            f"{MINIROCKET}: MiniRocket features (Dempster et al. 2021) and a ridge classifier "
            "with cross-validated alpha, fit on each split's labeled series "
            "(`ssl_core.series.minirocket`, in the random-init stage); no stage time."
        )
    for name, folder in frozen:
        trained = [r for r in runs if not untrained(r.method) and r.method != MINIROCKET]
        runs += frozen_runs(folder, [r.split for r in trained], name, trained[0].metric)
    title = f"{results.name}: {metric_name(runs)} against the number of labels"
    png = plot(runs, out / "compare.png", title)
    md = out / "compare.md"
    md.write_text(markdown(runs, missing, title, png.name, notes))
    return md


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ssl_core.results", description=__doc__.splitlines()[0]
    )
    add = parser.add_argument
    add("results", type=Path, nargs="+", help="a project's results folder (results/<p>) or several")
    add("--summary", action="store_true", help="a section per results folder (implied by several)")
    add("--compare", action="store_true", help="the label-fraction comparison of RESULTS/compare")
    add(
        "--out",
        type=Path,
        help="pairs: also write the table here; --compare: the folder (default RESULTS)",
    )
    add("--params", type=Path, help="--compare: params.yaml (default projects/<p>/params.yaml)")
    add("--random-init", type=Path, help="--compare: the random-init stage's folder (baselines)")
    add("--frozen", action="append", default=[], metavar="NAME=FOLDER",
        help="--compare: rows NAME, kNN and NAME, linear probe of a pretrained space evaluated "
        "with --splits (repeatable)")  # fmt: skip
    add("--metric", help="--compare: the metrics.json key to compare (default: the headline)")
    ns = parser.parse_args(args)
    frozen = []
    for spec in ns.frozen:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            parser.error(f"--frozen takes NAME=FOLDER, not {spec!r}")
        frozen.append((name, Path(folder)))
    if not ns.compare:
        with exits_on_input_errors("results"):
            if len(ns.results) == 1 and not ns.summary:
                table = pairs_markdown(collect(ns.results[0]))
            else:
                table = summary_markdown(ns.results)
        print(table, end="")
        if ns.out:
            ns.out.write_text(table)
        return
    if len(ns.results) > 1:
        parser.error("--compare takes one project's results folder")
    results = ns.results[0]
    params = ns.params or Path("projects") / results.name / "params.yaml"
    with exits_on_input_errors("compare"):
        md = report(results, params, ns.out, ns.random_init, ns.metric, frozen)
    print(md.read_text(), end="")
    print(f"wrote {md} and {md.with_suffix('.png')}")


if __name__ == "__main__":
    main()
