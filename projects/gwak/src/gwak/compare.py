"""GWAK's test over several runs: spaces side by side with the excess-power baseline,
seeds pooled.

``python -m gwak.compare OUT NAME=RUN[,RUN...] [NAME=...]`` reads each run folder's
``metrics.json`` (``efficiency`` and ``anomaly_auroc``, written by ``evaluate``) and writes

- ``OUT/anomaly.md``: a row per space and signal class: the unseen-class AUROC, the
  class's AUROC against the background, its efficiency per SNR bin; mean ± sample
  standard deviation over the space's runs (the seeds). The excess-power baseline's rows
  first (once per distinct set of numbers);
- ``OUT/efficiency_vs_snr_compare.png``: one panel per signal class, a line per space
  (mean over its runs, error bars their standard deviation), the baseline dashed.

Names are the table's rows in the order given (put the untrained network first). Every
run must share the false-alarm rate, the background classes and the SNR bins.

- [0] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024),
  https://arxiv.org/abs/2309.11537 (efficiency vs SNR at a fixed false-alarm rate)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from gwak.efficiency import CURVE_STYLE
from ssl_core.errors import BadInputError, MissingInputError, exits_on_input_errors
from ssl_core.evaluate.plots import save
from ssl_core.results import cell_text, spread

BASELINE = "excess power (coincident)"
SAME = ("far_per_hour", "background_classes", "snr_bins")


def load(runs: Sequence[str | Path]) -> list[dict]:
    """The ``metrics.json`` of each run folder.

    Raises:
        MissingInputError: a folder without ``metrics.json``.
        BadInputError: a run without ``efficiency`` at a false-alarm rate per hour, or
            runs of other false-alarm rates, background classes or bins.
    """
    out = []
    for run in runs:
        path = Path(run) / "metrics.json"
        if not path.is_file():
            raise MissingInputError(f"no metrics.json in {run}: run `evaluate` there first")
        metrics = json.loads(path.read_text())
        if "far_per_hour" not in metrics.get("efficiency", {}):
            raise BadInputError(
                f"{path} has no efficiency at a false-alarm rate per hour: `evaluate` "
                "embeddings of GWAK's windows (predicted with their snr and excess_power)"
            )
        e = metrics["efficiency"]
        if out and [e[k] for k in SAME] != [out[0]["efficiency"][k] for k in SAME]:
            raise BadInputError(
                f"{run}: another false-alarm rate, background or SNR bins than {runs[0]}"
            )
        out.append(metrics)
    return out


def _cell(values: Sequence[float | None]) -> str:
    kept = [float(v) for v in values if v is not None]
    return cell_text(spread(kept)) if kept else "–"


def summarize(spaces: Mapping[str, list[dict]]) -> tuple[str, dict]:
    """The Markdown table and, per space (the baseline first, when the runs hold it)
    and signal class, the efficiencies ``(runs, bins)``."""
    some = next(iter(spaces.values()))[0]["efficiency"]
    bins, classes = some["snr_bins"], list(some["classes"])
    rows: dict[str, list[dict]] = {}
    # The baseline scores the test windows, not a space: every run on the same windows
    # holds the same numbers, kept once (several only for runs on other test windows).
    found = {
        json.dumps(m["efficiency"]["baseline"], sort_keys=True): m["efficiency"]["baseline"]
        for runs in spaces.values()
        for m in runs
        if "baseline" in m["efficiency"]
    }
    if found:
        rows[BASELINE] = [{"efficiency": b} for b in found.values()]
    rows.update(spaces)
    header = ["space", "unseen-class AUROC", "signal class", "AUROC vs background"] + [
        f"SNR {lo:g}-{hi:g}" for lo, hi in zip(bins[:-1], bins[1:], strict=True)
    ]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    held = set(some.get("held_out_classes", []))
    curves: dict = {}
    for name, runs in rows.items():
        unseen = "–" if name == BASELINE else _cell([m.get("anomaly_auroc") for m in runs])
        curves[name] = {}
        for i, c in enumerate(classes):
            per = [m["efficiency"]["classes"][c] for m in runs]
            eff = np.array([p["efficiency"] for p in per], float)
            curves[name][c] = eff
            first = [name, unseen] if i == 0 else ["", ""]
            label = f"{c} (unseen)" if c in held else c
            cells = first + [label, _cell([p.get("auroc") for p in per])]
            cells += [_cell(eff[:, k]) for k in range(eff.shape[1])]
            lines.append("| " + " | ".join(cells) + " |")
    live = some["background_live_time_s"] / 3600
    lines += [
        "",
        f"Efficiency: the share of a signal class's test windows in an SNR bin whose score "
        f"passes the threshold of a false-alarm rate of {some['far_per_hour']:g} per hour on "
        f"the {some['background_windows']} background test windows "
        f"({', '.join(some['background_classes'])}; {live:.3f} h, "
        f"{some['false_alarms']} false alarms allowed); AUROC vs background: the class "
        "against those windows; the space's score is the Mahalanobis distance to the nearest "
        "background class, the baseline's the coincident excess power. Unseen-class AUROC: "
        "classes left out of training against every in-distribution test window, distance "
        "to the nearest training class. Mean ± standard deviation (sample) over the runs, "
        "their number in brackets.",
    ]
    return "\n".join(lines) + "\n", curves


def plot(curves: dict, bins: Sequence[float], far_per_hour: float, path: Path) -> Path:
    """One panel per signal class: efficiency against SNR, a line per space."""
    import matplotlib.pyplot as plt

    classes = list(next(iter(curves.values())))
    centers = 0.5 * (np.asarray(bins[1:]) + np.asarray(bins[:-1]))
    fig, axes = plt.subplots(1, len(classes), figsize=(5 * len(classes), 3.8), squeeze=False)
    for ax, c in zip(axes[0], classes, strict=True):
        for i, (name, per_class) in enumerate(curves.items()):
            eff = per_class[c]
            std = eff.std(axis=0, ddof=1) if len(eff) > 1 else np.zeros(eff.shape[1])
            x = centers + (i - (len(curves) - 1) / 2) * 0.25  # error bars side by side
            ls = "--" if name == BASELINE else "-"
            label = f"{name} ({len(eff)})"
            ax.errorbar(x, eff.mean(axis=0), yerr=std, ls=ls, label=label, **CURVE_STYLE)
        ax.set_title(c, fontsize=10)
        ax.set_xlabel("network SNR")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"efficiency at FAR {far_per_hour:g}/h (noise + glitches)")
    axes[0][-1].legend(fontsize=8, loc="upper left")
    return save(fig, path)


def compare(out: str | Path, spaces: Mapping[str, Sequence[str | Path]]) -> Path:
    """Write ``anomaly.md`` and ``efficiency_vs_snr_compare.png`` into ``out``; returns
    the table's path."""
    out = Path(out)
    loaded = {name: load(runs) for name, runs in spaces.items()}
    table, curves = summarize(loaded)
    some = next(iter(loaded.values()))[0]["efficiency"]
    png = plot(
        curves, some["snr_bins"], some["far_per_hour"], out / "efficiency_vs_snr_compare.png"
    )
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
