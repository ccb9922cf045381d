"""GWAK's anomaly test over several runs: spaces side by side, seeds pooled.

``python -m gwak.compare OUT NAME=RUN[,RUN...] [NAME=...]`` reads each run
folder's ``metrics.json`` (written by ``evaluate`` on a space trained without the
anomaly classes: ``anomaly_auroc`` and ``efficiency``, the held-out classes' detection
efficiency per SNR bin at a fixed false-alarm rate) and writes

- ``OUT/anomaly.md``: per space the anomaly AUROC and (a row per held-out class) the
  efficiency per SNR bin, mean ± sample standard deviation over its runs (the seeds) and
  their number;
- ``OUT/efficiency_vs_snr_compare.png``: one panel per held-out class, a line per space
  (mean over its runs, error bars their standard deviation).

Names are the table's rows in the order given (put the baselines first: random init,
supervised). Every run must share the false-alarm rate and SNR bins.

- [0] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024),
  https://arxiv.org/abs/2309.11537 (efficiency vs SNR at a fixed false-alarm rate)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ssl_core.errors import BadInputError, MissingInputError, exits_on_input_errors
from ssl_core.evaluate.plots import save
from ssl_core.results import cell_text, spread


def load(runs: Sequence[str | Path]) -> list[dict]:
    """The ``metrics.json`` of each run folder.

    Raises:
        FileNotFoundError: a folder without ``metrics.json``.
        ValueError: a run without ``anomaly_auroc`` or ``efficiency`` (not a space
            trained without the anomalies), or runs of other false-alarm rates or bins.
    """
    out = []
    for run in runs:
        path = Path(run) / "metrics.json"
        if not path.is_file():
            raise MissingInputError(f"no metrics.json in {run}: run `evaluate` there first")
        metrics = json.loads(path.read_text())
        if "anomaly_auroc" not in metrics or "efficiency" not in metrics:
            raise BadInputError(
                f"{path} has no anomaly_auroc and efficiency: a space trained without the "
                "anomaly classes, evaluated on data with each window's snr, has them"
            )
        out.append(metrics)
    first = out[0]["efficiency"] if out else {}
    for run, metrics in zip(runs, out, strict=True):
        e = metrics["efficiency"]
        if (e["far"], e["snr_bins"]) != (first["far"], first["snr_bins"]):
            raise BadInputError(f"{run}: another false-alarm rate or SNR bins than {runs[0]}")
    return out


def _cell(values: Sequence[float]) -> str:
    return cell_text(spread([float(v) for v in values]))


def summarize(spaces: Mapping[str, list[dict]]) -> tuple[str, dict]:
    """The Markdown table and, per space and held-out class, the efficiencies
    ``(runs, bins)``."""
    names = list(spaces)
    some = next(iter(spaces.values()))[0]["efficiency"]
    bins, classes = some["snr_bins"], list(some["classes"])
    header = ["space", "anomaly AUROC", "held-out class"] + [
        f"SNR {lo:g}-{hi:g}" for lo, hi in zip(bins[:-1], bins[1:], strict=True)
    ]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    curves: dict = {}
    for name in names:
        runs = spaces[name]
        auroc = _cell([m["anomaly_auroc"] for m in runs])
        curves[name] = {}
        for i, c in enumerate(classes):  # a row per held-out class, the AUROC once
            eff = np.array([m["efficiency"]["classes"][c]["efficiency"] for m in runs], float)
            curves[name][c] = eff
            first = [name, auroc] if i == 0 else ["", ""]
            cells = first + [c] + [_cell(eff[:, k]) for k in range(eff.shape[1])]
            lines.append("| " + " | ".join(cells) + " |")
    far = some["far"]
    lines += [
        "",
        f"Anomaly AUROC: the held-out classes against the in-distribution test windows; "
        f"efficiency: the share of a held-out class's windows in an SNR bin above the "
        f"threshold that {far:g} of the noise-only test windows pass. Mean ± standard "
        "deviation (sample) over the runs, their number in brackets.",
    ]
    return "\n".join(lines) + "\n", curves


def plot(curves: dict, bins: Sequence[float], far: float, path: Path) -> Path:
    """One panel per held-out class: efficiency against SNR, a line per space."""
    import matplotlib.pyplot as plt

    classes = list(next(iter(curves.values())))
    centers = 0.5 * (np.asarray(bins[1:]) + np.asarray(bins[:-1]))
    fig, axes = plt.subplots(1, len(classes), figsize=(5 * len(classes), 3.8), squeeze=False)
    for ax, c in zip(axes[0], classes, strict=True):
        for i, (name, per_class) in enumerate(curves.items()):
            eff = per_class[c]
            std = eff.std(axis=0, ddof=1) if len(eff) > 1 else np.zeros(eff.shape[1])
            dodge = (i - (len(curves) - 1) / 2) * 0.25  # error bars side by side
            ax.errorbar(
                centers + dodge,
                eff.mean(axis=0),
                yerr=std,
                marker="o",
                ms=3,
                capsize=2,
                label=f"{name} ({len(eff)})",
            )
        ax.set_title(f"{c} (unseen in training)", fontsize=10)
        ax.set_xlabel("network SNR")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"detection efficiency at FAR {far:g}")
    axes[0][-1].legend(fontsize=8, loc="upper left")
    return save(fig, path)


def compare(out: str | Path, spaces: Mapping[str, Sequence[str | Path]]) -> Path:
    """Write ``anomaly.md`` and ``efficiency_vs_snr_compare.png`` into ``out``; returns
    the table's path."""
    out = Path(out)
    loaded = {name: load(runs) for name, runs in spaces.items()}
    table, curves = summarize(loaded)
    some = next(iter(loaded.values()))[0]["efficiency"]
    png = plot(curves, some["snr_bins"], some["far"], out / "efficiency_vs_snr_compare.png")
    md = out / "anomaly.md"
    md.write_text(table + f"\n![efficiency against SNR]({png.name})\n")
    return md


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gwak.compare", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out", type=Path, help="folder of anomaly.md and the plot")
    parser.add_argument(
        "spaces",
        nargs="+",
        metavar="NAME=RUN[,RUN...]",
        help="a space's runs (e.g. its seeds), the baselines first",
    )
    ns = parser.parse_args(args)
    spaces = {}
    for spec in ns.spaces:
        name, sep, runs = spec.partition("=")
        if not sep or not name or not runs:
            parser.error(f"expected NAME=RUN[,RUN...], not {spec!r}")
        spaces[name] = runs.split(",")
    with exits_on_input_errors("compare"):
        md = compare(ns.out, spaces)
    print(md.read_text(), end="")


if __name__ == "__main__":
    main()
