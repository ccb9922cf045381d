"""Training steps per second of small CPU recipes at 1 and 2 intra-op threads, alone and
with a second identical run beside them: what ``train --cpu_threads`` should default to.

What is measured: a SimCLR fit (two views, NT-Xent, AdamW; ``lightning`` Trainer on the
CPU, no validation, no logger) of three recipes on fake data in the real layouts,
written once to a temporary folder:

- ``series``: ResNet1d (32, 64, 64) on a fake 12-channel ``.ts`` file (lengths 7-29, as
  JapaneseVowels; ``ssl_core.series.fake``), batch 32, no loader workers (the series
  recipes');
- ``jets``: ParticleFlowNetwork (the paper's sizes) on fake jets (``ssl_core.points.fake``),
  64 particles, JetCLR views, batch 128, 2 loader workers (the jets recipes');
- ``images``: ResNet-18 on a fake class-folder dataset (``ssl_core.data.fake``), SimCLR
  views at 64 px, batch 32, 2 loader workers (the Imagenette CPU recipe's, smaller batch).

Each run is its own process with ``--cpu_threads``'s callback
(:class:`ssl_core.threads.CpuThreads`) set to 1 or 2 threads or ``auto`` (the table
lists what auto chose in each run); "runs at once" 2 starts two identical processes
together. A run times the steps after ``--warmup`` (workers
starting, first allocations): ``--steps`` of series (jets 3/4 of it, images 1/5), or as
many as ``--seconds`` allow (a run two others' threads crowd out can be 10x slower).
It reports steps per second of wall time, and CPU milliseconds per step of the process
and its loader workers (psutil). Every configuration runs ``--repeats`` times, the
configurations interleaved (a drifting load hits all of them); the table gives the
median over repeats (and over the two runs of a pair). The 1-minute load average is
printed before and after (the runs' own threads raise it): measure on an otherwise idle
machine and say what it was.

Usage: ``uv run --frozen python bench/threads.py [--recipes series jets images]
[--threads 1 2 auto] [--repeats 1] [--warmup 3] [--steps 40] [--seconds 15]``; about 6
minutes on 2 cores per repeat.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import psutil
import torch
from lightning.pytorch import Callback, Trainer, seed_everything

from ssl_core.backbones import Backbone
from ssl_core.data import ClassificationDataModule, ImageFolder, Images
from ssl_core.data.fake import make_fake_image_folder
from ssl_core.methods import SimCLR
from ssl_core.points import JetCLRTransform, JetFiles, ParticleFlowNetwork, Points
from ssl_core.points.fake import write_fake_jet_files
from ssl_core.series import ResNet1d, UEASeries
from ssl_core.series.fake import write_fake_ts
from ssl_core.threads import CpuThreads, CpuThreadsSetting
from ssl_core.transforms import SimCLRTransform

RECIPES = ("series", "jets", "images")
#: Timed steps of each recipe per step of ``--steps`` (a few seconds each on 2 idle cores).
STEP_SCALE = {"series": 1.0, "jets": 0.75, "images": 0.2}


def write_data(folder: Path) -> None:
    """Fake data of every recipe under ``folder`` (``series/``, ``jets/``, ``images/``)."""
    classes = [f"c{i}" for i in range(6)]
    for split, seed in (("TRAIN", 0), ("TEST", 1)):
        path = folder / "series" / f"Fake_{split}.ts"
        write_fake_ts(path, classes, per_class=45, channels=12, lengths=(7, 29), seed=seed)
    write_fake_jet_files(folder / "jets", per_class=600)
    make_fake_image_folder(folder / "images", classes, {"train": 40, "test": 2}, size=72)


def recipe(name: str, data: Path) -> tuple[SimCLR, ClassificationDataModule]:
    """``(module, datamodule)`` of a recipe (see the module docstring)."""
    if name == "series":
        backbone = ResNet1d(in_channels=12, widths=(32, 64, 64))
        data_args = dict(source=UEASeries("Fake"), batch_size=32, num_workers=0)
    elif name == "jets":
        backbone = ParticleFlowNetwork()
        data_args = dict(
            source=JetFiles(),
            modality=Points(64),
            train_transform=JetCLRTransform(),
            batch_size=128,
            num_workers=2,
        )
    else:
        backbone = Backbone("resnet18")
        data_args = dict(
            source=ImageFolder(),
            modality=Images(64),
            train_transform=SimCLRTransform(size=64, min_scale=0.25, blur_prob=0.0),
            batch_size=32,
            num_workers=2,
        )
    model = SimCLR(
        backbone=backbone,
        projection_dim=64,
        hidden_dim=256,
        temperature=0.1,
        optimizer=partial(torch.optim.AdamW, lr=1e-3, weight_decay=1e-4),
        online_knn=False,
    )
    datamodule = ClassificationDataModule(root=str(data / name), train_on="all", **data_args)
    return model, datamodule


def cpu_seconds() -> float:
    """CPU seconds of this process and its children (the loader workers) so far."""
    me = psutil.Process()
    cpu = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a worker that just ended
            continue
        cpu += times.user + times.system
    return cpu


class Clock(Callback):
    """Wall and CPU seconds of the steps after the first ``warmup``; stops the fit after
    ``seconds`` of them (an oversubscribed run can be 10x slower than the others)."""

    def __init__(self, warmup: int, seconds: float) -> None:
        self.warmup, self.seconds = warmup, seconds
        self.steps, self.wall, self.cpu, self.threads = 0, 0.0, 0.0, 0

    def on_train_batch_start(self, trainer: Trainer, *_) -> None:
        if trainer.global_step == self.warmup:
            self.wall, self.cpu = time.perf_counter(), cpu_seconds()
            self.threads = torch.get_num_threads()

    def on_train_batch_end(self, trainer: Trainer, *_) -> None:
        if trainer.global_step > self.warmup and time.perf_counter() - self.wall > self.seconds:
            trainer.should_stop = True

    def on_train_end(self, trainer: Trainer, *_) -> None:
        self.steps = trainer.global_step - self.warmup
        self.wall, self.cpu = time.perf_counter() - self.wall, cpu_seconds() - self.cpu


def run_one(
    name: str, threads: CpuThreadsSetting, data: Path, warmup: int, steps: int, seconds: float
) -> dict:
    """One fit: ``steps`` timed steps or as many as ``seconds`` allow; steps/s, CPU
    ms/step and the threads it ran with (what the child prints)."""
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    seed_everything(0, verbose=False)
    model, datamodule = recipe(name, data)
    clock = Clock(warmup, seconds)
    trainer = Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=warmup + steps,
        max_epochs=-1,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[CpuThreads(threads), clock],
    )
    trainer.fit(model, datamodule=datamodule)
    return {
        "steps": clock.steps,
        "steps_per_s": clock.steps / clock.wall,
        "cpu_ms_per_step": 1e3 * clock.cpu / clock.steps,
        "threads": clock.threads,
    }


def measure(name: str, threads: str, at_once: int, data: Path, opts: argparse.Namespace):
    """Start ``at_once`` identical runs together; their results (one dict each)."""
    steps = max(5, round(opts.steps * STEP_SCALE[name]))
    command = [
        sys.executable,
        __file__,
        "--one",
        name,
        threads,
        "--data",
        str(data),
        "--warmup",
        str(opts.warmup),
        "--steps",
        str(steps),
        "--seconds",
        str(opts.seconds),
    ]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(at_once)
    ]
    results = []
    for run in runs:
        out, err = run.communicate()
        if run.returncode != 0:
            raise SystemExit(f"{name} at {threads} threads failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    parser.add_argument("--threads", nargs="+", default=["1", "2", "auto"], help="N or auto")
    parser.add_argument("--at-once", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="timed steps of series")
    parser.add_argument("--seconds", type=float, default=15, help="at most, per run")
    parser.add_argument("--one", nargs=2, metavar=("RECIPE", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.one:  # a child: one run, one JSON line
        name, threads = opts.one[0], opts.one[1]
        threads = threads if threads == "auto" else int(threads)
        print(
            json.dumps(run_one(name, threads, opts.data, opts.warmup, opts.steps, opts.seconds)),
            flush=True,
        )
        return

    print(f"cores {len(os.sched_getaffinity(0))}, load {os.getloadavg()} (1, 5, 15 min)")
    start = time.perf_counter()
    configs = [
        (name, threads, at_once)
        for name in opts.recipes
        for at_once in opts.at_once
        for threads in opts.threads
    ]
    found: dict[tuple, list[dict]] = {config: [] for config in configs}
    with tempfile.TemporaryDirectory() as folder:
        write_data(Path(folder))
        for repeat in range(opts.repeats):
            for name, threads, at_once in configs:
                runs = measure(name, threads, at_once, Path(folder), opts)
                found[name, threads, at_once] += runs
                rates = " ".join(f"{r['steps_per_s']:.2f} ({r['threads']})" for r in runs)
                print(
                    f"  {repeat}: {name}, threads {threads}, x{at_once}: {rates} steps/s (threads)"
                )
    print(f"load {os.getloadavg()} (1, 5, 15 min); {time.perf_counter() - start:.0f} s")
    print()
    print("| recipe | runs at once | threads | steps/s per run | CPU ms/step |")
    print("|---|---|---|---|---|")
    for name, threads, at_once in configs:
        runs = found[name, threads, at_once]
        rate = statistics.median(r["steps_per_s"] for r in runs)
        cpu = statistics.median(r["cpu_ms_per_step"] for r in runs)
        if threads == "auto":  # what auto chose, in each run
            threads = "auto: " + ",".join(str(r["threads"]) for r in runs)
        print(f"| {name} | {at_once} | {threads} | {rate:.2f} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
