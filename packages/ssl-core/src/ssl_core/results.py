"""The pipeline's pairs of one project side by side, baselines first.

``python -m ssl_core.results results/<project> [--out table.md]`` reads each stage folder's
``metrics.json`` (written by ``evaluate`` and :mod:`ssl_core.pipeline`) and, where the
the final ``val/knn_top1`` and (methods with a classifier) ``val/top1`` of its
training log (read on the validation split carved from the training data), and prints
one Markdown row per pair: minutes per part of the stage, kNN and linear-probe top-1 of
the backbone features (on the test set), and the fit's last online kNN and classifier
top-1 (on the validation split: what recipe choices read). The random-init and supervised baselines
come first, so every number is read beside them; the last line sums the stages' minutes
(what the budget took). ``dvc metrics show`` gives every key of every pair, too wide to
read as a comparison; this is the short view.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

BASELINES = ("random-init", "supervised")  # read every other row against these
PARTS = ("start", "fit", "predict", "evaluate", "total")


def final_metrics(metrics_csv: Path) -> dict[str, float]:
    """The last logged value of every column of a Lightning CSV log (the final epoch or
    step: the number to report, not the best one)."""
    table = pd.read_csv(metrics_csv)
    if table.empty:  # a run that stopped before logging anything
        return {}
    last = table.ffill().iloc[-1].dropna()  # per column, its last logged value
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
    """A :class:`Row` per folder of ``results`` holding a ``metrics.json``, baselines first.

    Raises:
        FileNotFoundError: when no folder of ``results`` has a ``metrics.json``.
    """
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
        raise FileNotFoundError(
            f"no */metrics.json under {results}: run `dvc repro` (or `dvc pull`) first"
        )
    first = {name: i for i, name in enumerate(BASELINES)}
    return sorted(rows, key=lambda r: (first.get(r.name, len(first)), r.name))


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table, and the sum of the stages' minutes."""
    lines = [
        "| pair | " + " | ".join(f"{p} (min)" for p in PARTS) + " | test kNN top-1 | test "
        "linear probe top-1 | val kNN top-1 | val classifier top-1 |",
        "|---|" + "---|" * (len(PARTS) + 4),
    ]
    for r in rows:
        name = f"**{r.name}**" if r.name in BASELINES else r.name
        cells = [_cell(r.minutes.get(p), ".1f") for p in PARTS]
        numbers = (r.knn_top1, r.linear_top1, r.val_knn_top1, r.classifier_top1)
        cells += [_cell(v, ".3f") for v in numbers]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    total = sum(r.minutes.get("total", 0.0) for r in rows)
    lines += ["", f"{len(rows)} stages, {total:.1f} min in all (their own times)."]
    return "\n".join(lines) + "\n"


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a project's results folder")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    ns = parser.parse_args(args)
    try:
        table = markdown(collect(ns.results))
    except FileNotFoundError as err:
        raise SystemExit(f"results: {err}") from None
    print(table, end="")
    if ns.out:
        ns.out.write_text(table)


if __name__ == "__main__":
    main()
