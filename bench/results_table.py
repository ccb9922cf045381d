"""Results table: every method at one fixed budget on one label split, final epoch.

Runs ``train fit`` for each method config with the same split, image size and number of
optimizer steps, plus a random-init kNN baseline (``train validate`` of an untrained
SimCLR), then reads the *final* logged ``val/top1`` (classifier) and ``val/knn_top1``
of each run (Oliver et al. 2018: no best-epoch picking; Imagenette's val is the test set
and nothing is tuned on it). Prints a Markdown table and writes it to ``OUT/table.md``.

    uv run python bench/results_table.py --root ../shared/data/imagenette2-224 \
        --split frac0.10-seed0 --budget cpu --out results/cpu

``--budget`` picks ``<method>-cpu.yaml`` (cpu) or ``<method>.yaml`` (gpu) and the
extra ``train`` arguments after ``--`` (the same for every method). ``--step-time`` adds
``bench/step_time.py``'s callback to every fit and a column with the median seconds per
training step (how long a budget takes per method).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ssl_core.results import final_metrics

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
CONFIGS = REPO / "projects" / "imagenette" / "configs"
SEMI_METHODS = ["supervised", "pseudolabel", "meanteacher", "fixmatch", "semisupcon", "finetune"]
BUDGETS = {"cpu": "-cpu", "gpu": ""}  # budget -> config suffix; overrides go after --


def final_metrics_of_run(run_dir: Path) -> dict[str, float]:
    """Final logged values of the run's newest ``metrics.csv`` (final epoch, not the best)."""
    files = sorted(run_dir.rglob("metrics.csv"), key=lambda p: p.stat().st_mtime)
    return final_metrics(files[-1]) if files else {}


def launch(args: list[str], log: Path) -> tuple[subprocess.Popen, float, Path]:
    f = log.open("w")
    # bench/ on the path: the runs may name ``step_time.StepTimer`` as a callback
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    return proc, time.time(), log


def step_time(run_dir: Path) -> str:
    """Median seconds per training step that ``StepTimer`` wrote for a run, or ``–``."""
    path = run_dir / "step_time.json"
    value = json.loads(path.read_text())["median_s_per_step"] if path.is_file() else None
    return "–" if value is None else f"{value:.3f}"


def wait(job: tuple[subprocess.Popen, float, Path]) -> float:
    proc, start, log = job
    if proc.wait():
        print(f"  failed (exit {proc.returncode}); see {log}", file=sys.stderr)
    return time.time() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="Imagenette folder (train/, val/)")
    parser.add_argument("--split", default="frac0.10-seed0")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="cpu")
    parser.add_argument("--methods", nargs="+", default=SEMI_METHODS)
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument(
        "--pretrained", help="SimCLR checkpoint for finetune (default: a SimCLR run first)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (one GPU fits several)")
    parser.add_argument(
        "--collect", action="store_true", help="only tabulate finished runs in --out"
    )
    parser.add_argument(
        "--step-time",
        action="store_true",
        help="time the training steps of each run (bench/step_time.py) and add a column",
    )
    parser.add_argument("extra", nargs="*", help="extra train arguments (after --)")
    opts = parser.parse_args(argv)
    suffix = BUDGETS[opts.budget]
    out = opts.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    train = [sys.executable, "-m", "ssl_core.cli", "--project", "imagenette"]
    common = ["--data.root", str(Path(opts.root).resolve()), *opts.extra]
    timer = ["--trainer.callbacks+=step_time.StepTimer"] if opts.step_time else []
    rows = []
    runs: dict[str, tuple[list[str], Path]] = {}

    # Random-init baseline: kNN of an untrained backbone on the same data and crop size.
    simclr_config = CONFIGS / f"simclr{suffix}.yaml"
    runs["random init (no training)"] = (
        [*train, "validate", "--config", str(simclr_config), "--data.split", opts.split],
        out / "random-init",
    )
    if "finetune" in opts.methods and opts.pretrained is None:
        # SimCLR on all images first (labels unused), same budget, for the fine-tuning.
        runs["simclr (pretraining for finetune, no labels)"] = (
            [*train, "fit", "--config", str(simclr_config)],
            out / "simclr",
        )
    for method in opts.methods:
        config = CONFIGS / f"{method}{suffix}.yaml"
        if not config.is_file():
            print(f"skipping {method}: no {config.name}", file=sys.stderr)
            continue
        runs[method] = (
            [*train, "fit", "--config", str(config), "--data.split", opts.split],
            out / method,
        )

    def command(name: str) -> list[str]:
        args, run_dir = runs[name]
        extra = []
        if name == "finetune":
            ckpts = sorted((out / "simclr").rglob("last.ckpt")) if opts.pretrained is None else []
            ckpt = opts.pretrained or (str(ckpts[-1]) if ckpts else None)
            if ckpt is None:
                raise SystemExit("finetune: no SimCLR checkpoint (the pretraining run failed)")
            extra = ["--model.init_args.backbone.init_args.weights", ckpt]
        fit = timer if "fit" in args else []
        return [*args, *common, *extra, *fit, "--trainer.default_root_dir", str(run_dir)]

    # Everything but finetune may run side by side; finetune waits for its pretraining.
    first = [n for n in runs if n != "finetune"]
    seconds: dict[str, float] = {}
    active: list[tuple[str, tuple]] = []
    for name in [] if opts.collect else first + (["finetune"] if "finetune" in runs else []):
        if name == "finetune":
            for other, job in active:
                seconds[other] = wait(job)
            active = []
        while len(active) >= max(opts.jobs, 1):
            other, job = active.pop(0)
            seconds[other] = wait(job)
        print(f"running {name}", file=sys.stderr)
        slug = runs[name][1].name
        active.append((name, launch(command(name), out / f"{slug}.log")))
    for other, job in active:
        seconds[other] = wait(job)
    rows = [
        (name, final_metrics_of_run(runs[name][1]), seconds.get(name, float("nan")))
        for name in runs
    ]

    lines = [
        f"Split `{opts.split}`, budget `{opts.budget}`, data `{opts.root}`; final epoch.",
        "",
        "| method | val top-1 (classifier) | val kNN top-1 | optimizer steps | minutes |"
        + (" s/step |" if opts.step_time else ""),
        "|---|---|---|---|---|" + ("---|" if opts.step_time else ""),
    ]
    for name, m, secs in rows:
        top1 = f"{m['val/top1']:.3f}" if "val/top1" in m else "–"
        knn = f"{m['val/knn_top1']:.3f}" if "val/knn_top1" in m else "–"
        trained = any(key.startswith("train/") for key in m)  # epoch-level logs count too
        steps = f"{int(m['step']) + 1}" if trained and "step" in m else "0"
        row = f"| {name} | {top1} | {knn} | {steps} | {secs / 60:.1f} |"
        lines.append(row + (f" {step_time(runs[name][1])} |" if opts.step_time else ""))
    table = "\n".join(lines)
    print(table)
    (out / "table.md").write_text(table + "\n")
    (out / "results.json").write_text(json.dumps({n: m for n, m, _ in rows}, indent=1))


if __name__ == "__main__":
    main()
