"""Where pretraining pays: a space's quality against its pretraining steps (issue 32).

Runs the pipeline's own training stage (``python -m ssl_core.pipeline``: fit, embed,
evaluate) of one method at several step counts on one label split, beside the untrained
network (``--no-fit``) and the supervised baseline on the same labels, and writes
``curve.json``, ``curve.md`` and ``curve.png`` (each metric against steps, log axis).
Run it from a checkout whose data stage and splits exist (after ``dvc repro`` of the
project's ``data`` and ``splits`` stages); a run whose ``metrics.json`` exists is kept.

    uv run python bench/budget_curve.py --project vowels --method simclr \
        --split frac0.10-seed0 --steps 25 75 250 750 --out bench/out/budget-vowels

The metrics are the stage's own ``metrics.json`` keys (kNN and linear probe on the
split's labels, test set); no number here is chosen on the test set.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ssl_core.evaluate.report import number  # noqa: E402


def run(cmd: list[str]) -> None:
    """Run ``cmd``, printed first; stop on failure."""
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def stage(args: argparse.Namespace, method: str, out: Path, extra: list[str]) -> dict:
    """One training stage into ``out`` (kept when done); its ``metrics.json``."""
    if not (out / "metrics.json").is_file():
        p = args.project
        manifest = args.manifest or next(Path(f"projects/{p}/data").glob("*/manifest.json"), None)
        if manifest is None:
            sys.exit(f"no projects/{p}/data/*/manifest.json: run its data and splits stages")
        splits = args.splits or Path(f"projects/{p}/splits")
        cmd = [sys.executable, "-m", "ssl_core.pipeline", "--project", p, "--method", method]
        cmd += ["--budget", args.budget, "--configs", f"projects/{p}/configs"]
        cmd += ["--manifest", str(manifest), "--split", str(splits / f"{args.split}.json")]
        run([*cmd, "--out", str(out), *extra])
    return json.loads((out / "metrics.json").read_text())


def row(name: str, steps: int | None, metrics: dict, keys: list[str]) -> dict:
    fit = metrics.get("seconds", {}).get("fit")
    out = {"run": name, "steps": steps, "fit_minutes": fit and fit / 60}
    return out | {k: metrics.get(k) for k in keys}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--method", default="simclr")
    parser.add_argument("--split", required=True, help="split name, e.g. frac0.10-seed0")
    parser.add_argument("--steps", type=int, nargs="+", required=True)
    parser.add_argument(
        "--supervised-steps", type=int, nargs="*", help="default: the same as --steps"
    )
    parser.add_argument("--manifest", type=Path, help="default: projects/<project>/data/*/")
    parser.add_argument("--splits", type=Path, help="default: projects/<project>/splits")
    parser.add_argument("--budget", default="cpu", choices=("cpu", "full"))
    parser.add_argument("--metrics", nargs="+", default=["knn_top1", "linear_top1"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out = args.out / f"{args.budget}-{args.split}"  # kept runs match budget and split

    rows = [
        row(
            "random-init",
            0,
            stage(args, args.method, args.out / "random-init", ["--no-fit"]),
            args.metrics,
        )
    ]
    for n in args.steps:
        m = stage(args, args.method, args.out / f"{args.method}-{n}", ["--steps", str(n)])
        rows.append(row(args.method, n, m, args.metrics))
    for n in args.supervised_steps or args.steps:
        m = stage(args, "supervised", args.out / f"supervised-{n}", ["--steps", str(n)])
        rows.append(row("supervised", n, m, args.metrics))
    (args.out / "curve.json").write_text(json.dumps(rows, indent=1))

    head = ["run", "steps", "fit min", *args.metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["run"],
            str(r["steps"]),
            number(r["fit_minutes"], 1),
        ]
        cells += [number(r[k], 4) for k in args.metrics]
        lines.append("| " + " | ".join(cells) + " |")
    (args.out / "curve.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    fig, axes = plt.subplots(
        1, len(args.metrics), figsize=(4.5 * len(args.metrics), 3.6), squeeze=False
    )
    for ax, key in zip(axes.flat, args.metrics, strict=True):
        for name, style in ((args.method, "o-"), ("supervised", "s--")):
            pts = [(r["steps"], r[key]) for r in rows if r["run"] == name and r[key] is not None]
            if pts:
                ax.plot(
                    *zip(*pts, strict=True),
                    style,
                    label=f"{name}, same labels" if name == "supervised" else name,
                )
        if rows[0][key] is not None:
            ax.axhline(rows[0][key], color="grey", ls=":", label="untrained network")
        ax.set(xscale="log", xlabel="optimizer steps", ylabel=f"test {key}", title=key)
        ticks = sorted({r["steps"] for r in rows if r["steps"]})
        ax.set_xticks(ticks, [str(t) for t in ticks])  # the budgets run, no minor labels
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"{args.project}: {args.method} space against its steps ({args.split})")
    fig.tight_layout()
    fig.savefig(args.out / "curve.png", dpi=110)


if __name__ == "__main__":
    main()
