"""One training stage of the DVC pipeline: fit, embed and evaluate a method on a dataset
(the stages, their flags and outputs: ``docs/pipelines.md``)."""

from __future__ import annotations

import argparse
import ast
import csv
import functools
import hashlib
import importlib
import importlib.util
import json
import re
import shlex
import shutil
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ssl_core.manifest import data_root

BUDGETS = ("full", "cpu", "smoke")
SMOKE_CONFIG = "smoke.yaml"  # a project's overlay of its CPU recipes for budget smoke
STAGE_MARKER = "stage.json"  # out/train/stage.json: the stage key and whether fit finished
SMOKE_EVALUATE_ARGS = ("--no-umap",)  # UMAP's first run compiles for a minute
SMOKE_STEPS = 2  # budget smoke's optimizer steps for a --steps run: the overlays' two batches
START_MODULES = ("ssl_core.cli", "ssl_core.evaluate.metrics", "ssl_core.evaluate.plots")
# --test-only fits without validation (the test set is scored once, after the fit)
TEST_ONLY_FIT_ARGS = tuple(
    "--trainer.limit_val_batches 0 --trainer.check_val_every_n_epoch 1 "
    "--trainer.val_check_interval 1.0".split()
)


def train_args(
    method: str,
    budget: str,
    configs: Path,
    root: str,
    split: str | None,
    extra: Sequence[str] = (),
    steps: int | None = None,
) -> list[str]:
    """The arguments that ``train fit``, ``predict`` and ``test`` share."""
    from ssl_core.project import recipe

    name = f"{method}.yaml" if budget == "full" else f"{method}-cpu.yaml"
    config = recipe(Path(configs), name)  # the project's own, else ssl-core's
    if config is None:
        raise FileNotFoundError(
            f"No config {Path(configs) / name} for method {method!r} (budget {budget})"
        )
    common = ["--config", str(config)]
    if budget == "smoke":
        smoke = Path(configs) / SMOKE_CONFIG
        if not smoke.is_file():
            raise FileNotFoundError(
                f"budget smoke needs {smoke}: the project's overlay of its CPU recipes "
                "(a few small batches; see projects/imagenette/configs/smoke.yaml)"
            )
        common += ["--config", str(smoke)]
    common += ["--data.root", root]
    if split:
        common += ["--data.split", str(split)]
    if steps is not None:
        steps = SMOKE_STEPS if budget == "smoke" else steps
        common += ["--trainer.max_steps", str(steps), "--trainer.max_epochs", "-1"]
    return common + list(extra)


def _logger(out: Path, version: str, keep_before_step: int | None = None) -> list[str]:
    """Arguments for a CSV logger into ``out/version`` (resumed: the rows before the step)."""
    init = {"save_dir": str(out), "name": "", "version": version}
    logger = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": init}
    if keep_before_step is not None:
        init["keep_before_step"] = keep_before_step
        logger["class_path"] = "ssl_core.resume.ResumableCSVLogger"
    return ["--trainer.default_root_dir", str(out), "--trainer.logger", json.dumps(logger)]


def _start(modules: Sequence[str] = START_MODULES) -> float:
    """Import ``modules``, so that no part's time includes it; the seconds taken."""
    start = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    return time.perf_counter() - start


def _run(name: str, args: list[str]) -> float:
    """Run ``train`` or ``evaluate`` here with ``args``, as if typed (printed); the seconds."""
    print("+", shlex.join([name, *args]), flush=True)
    start = time.perf_counter()
    if name == "train":
        from ssl_core.cli import cli as command
    else:
        from ssl_core.evaluate import main as command
    command(args)
    return time.perf_counter() - start


def write_curves(metrics_csv: Path, curves: Path) -> None:
    """``step,loss``: the training loss from Lightning's CSV log, per logged step (or,
    when no step was logged, per epoch), for ``dvc plots``."""
    with Path(metrics_csv).open() as f:
        rows = list(csv.DictReader(f))
    for key in ("train/loss_step", "train/loss", "train/loss_epoch"):
        points = [(int(float(r["step"])), float(r[key])) for r in rows if r.get(key)]
        if points:
            break
    with Path(curves).open("w", newline="") as f:
        csv.writer(f).writerows([("step", "loss"), *points])


def stage_key(
    project: str, common: Sequence[str], manifest: Path, configs_dir: Path | None = None
) -> str:
    """What a stage's training depends on, hashed (docs/pipelines.md: stage.json's key)."""
    from ssl_core.project import extended

    h = hashlib.sha256()
    files, configs = [Path(manifest)], []
    for i, arg in enumerate(common):
        h.update(arg.encode() + b"\0")
        if i > 0 and common[i - 1] == "--config":
            configs += [Path(a) for a in extended(Path(arg), configs_dir) if a != "--config"]
        elif Path(arg).is_file():
            files.append(Path(arg))
    entries = [v for k, v in zip(common, common[1:], strict=False) if k.endswith(".class_path")]
    packages = {top: _package_dir(top) for top in ("ssl_core", project.replace("-", "_"))}
    sources = used_files(["ssl_core.cli", *entries], packages, configs)
    for path in files + configs + sources:
        h.update(str(path).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# ---------- the code a run uses (how: docs/pipelines.md, "Which stages an edit touches")
CLASS_PATH = re.compile(r"class_path:\s*([A-Za-z_][\w.]*)")
# an object named by a string and imported when used ("ssl_core.series.minirocket:MiniRocketProbes")
IMPORT_STRING = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+):([A-Za-z_]\w*)")


@functools.cache
def _tree(path: Path, mtime_ns: int) -> ast.Module:
    """The parsed file (cached while unchanged: a pipeline's stages walk the same files)."""
    return ast.parse(path.read_text(), str(path))


@functools.cache
def _imports(path: Path, mtime_ns: int, package: str) -> list[tuple[str, str | None]]:
    """What the file imports, ``(module, name or None)``, also as a string ``"module:name"``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(_tree(path, mtime_ns)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(_absolute(node, package), alias.name) for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if match := IMPORT_STRING.fullmatch(node.value):  # "pkg.module:Name"
                found.append((match.group(1), match.group(2)))
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of ``from ... import`` inside ``package``."""
    return importlib.util.resolve_name("." * node.level + (node.module or ""), package)


@functools.lru_cache(maxsize=4096)
def _module_file(package_dir: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` (``""``: the package itself) below ``package_dir``."""
    path = package_dir.joinpath(*dotted.split(".")) if dotted else package_dir
    return next((f for f in (path / "__init__.py", path.with_suffix(".py")) if f.is_file()), None)


def _package_dir(top: str) -> Path | None:
    """The directory of the top-level package ``top`` (without importing it)."""
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _reexport(init: Path, package: str, name: str) -> tuple[str, str] | None:
    """Where ``package/__init__.py`` takes ``name`` from: ``(module, name)``."""
    for node in ast.walk(_tree(init, init.stat().st_mtime_ns)):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _absolute(node, package), alias.name
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                # a lazy package: {"Name": "submodule"} (only a constant's value is a str)
                if getattr(key, "value", None) == name and isinstance(value, ast.Constant):
                    if isinstance(value.value, str):
                        return f"{package}.{value.value}", name
    return None


def used_files(
    entries: Iterable[str], packages: Mapping[str, Path | None], configs: Iterable[Path] = ()
) -> list[Path]:
    """The source files of ``packages`` (``{name: folder}``, ``None``: not installed) that
    the modules or objects ``entries`` (``ssl_core.cli``, ``ssl_core.methods.SimCLR``) and
    every ``class_path: a.b.C`` written in the config files ``configs`` use, sorted."""
    dirs = {top: Path(d) for top, d in packages.items() if d is not None}
    used: set[Path] = set()  # files the run executes
    walked: set[Path] = set()  # files whose imports were followed

    def module_file(name: str) -> Path | None:  # a package's: its __init__.py
        top, _, rest = name.partition(".")
        return _module_file(dirs[top], rest) if top in dirs else None

    def visit(module: str, name: str | None = None) -> None:
        """Use all of ``module`` and what it imports (``import a.b.c`` runs a, a.b and
        a.b.c), or only its ``name`` (of a package: only the module that provides it)."""
        if name is not None and module_file(f"{module}.{name}"):
            module, name = f"{module}.{name}", None
        parts = module.split(".")
        files = [module_file(".".join(parts[:i])) for i in range(1, len(parts) + 1)]
        used.update(f for f in files if f is not None)
        path = files[-1]
        if path is None:
            return
        is_init = path.name == "__init__.py"
        source = _reexport(path, module, name) if is_init and name is not None else None
        if source is not None:  # the package's __init__ runs; follow only ``name``'s source
            visit(*source)
        elif path not in walked:  # (a package's __init__ may be used, not yet walked)
            walked.add(path)
            package = module if is_init else module.rpartition(".")[0]
            for imported in _imports(path, path.stat().st_mtime_ns, package):
                visit(*imported)

    classes = [c for config in configs for c in CLASS_PATH.findall(Path(config).read_text())]
    for entry in [*entries, *classes]:
        visit(*entry.rsplit(".", 1))
    return sorted(used)


def _fit(out: Path, prefix: list[str], common: list[str], key: str, reuse: bool = False) -> float:
    """``train fit`` into ``out/train`` (resumed as docs/pipelines.md says); then
    ``last.ckpt`` moves to ``out/checkpoints``, the one checkpoint kept (a stage reports the
    final step, Oliver et al. 2018). ``reuse``: a fit finished under ``key`` is not rerun."""
    from ssl_core.resume import checkpoint_step

    marker, last = out / "train" / STAGE_MARKER, out / "train" / "checkpoints" / "last.ckpt"
    state = json.loads(marker.read_text()) if marker.is_file() else {}
    kept = out / "checkpoints" / "last.ckpt"
    if reuse and state.get("key") == key and "seconds" in state and kept.is_file():
        print(f"stage: {out} finished its fit under the same key; testing {kept}", flush=True)
        return state["seconds"]  # before a comparison stage was killed
    args = [*prefix, "fit", *common]
    if state.get("key") == key and not state.get("finished") and last.is_file():
        print(f"stage: resuming the killed fit from {last}", flush=True)
        args += [*_logger(out, "train", checkpoint_step(last)), "--ckpt_path", str(last)]
    else:
        _clear(out)
        args += _logger(out, "train")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"key": key, "finished": False}) + "\n")
    seconds = _run("train", args)
    marker.write_text(json.dumps({"key": key, "finished": True, "seconds": seconds}) + "\n")
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    (out / "checkpoints").mkdir()
    # ModelCheckpoint(save_last="link"): keep the file, not the link
    shutil.move(last.resolve(), kept)
    shutil.rmtree(out / "train" / "checkpoints")
    return seconds


def _clear(out: Path) -> None:
    for stale in ("train", "checkpoints"):
        shutil.rmtree(out / stale, ignore_errors=True)


def weights_only(checkpoint: Path) -> None:
    """Drop the optimizer and scheduler states from a finished stage's ``checkpoint`` (in
    place): a stage keeps its final model (a killed one resumes from ``train/``'s copy)."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)  # our own file
    kept = {k: v for k, v in state.items() if k not in ("optimizer_states", "lr_schedulers")}
    if len(kept) == len(state):
        return
    partial = checkpoint.with_name(checkpoint.name + ".partial")
    torch.save(kept, partial)
    partial.replace(checkpoint)


def run_stage(
    project: str,
    method: str,
    budget: str,
    configs: Path,
    manifest: Path,
    split: str | None,
    out: Path,
    extra: Sequence[str] = (),
    fit: bool = True,
    steps: int | None = None,
    test_only: bool = False,
) -> dict:
    """One stage, any task, everything under ``out`` (docs/pipelines.md): fit (unless ``fit``
    is false: the random-init baseline), predict and evaluate; or with ``test_only`` fit
    without validation, then ``train test`` with ``last.ckpt``. Returns ``metrics.json``."""
    out, configs = Path(out), Path(configs)
    prefix, last = ["--project", project], out / "checkpoints" / "last.ckpt"
    common = train_args(method, budget, configs, str(data_root(manifest)), split, extra, steps)
    if test_only:
        from ssl_core.splits import describe

        seconds = {"start": _start(("ssl_core.cli", "ssl_core.results"))}  # no evaluate
        fit_args = common + list(TEST_ONLY_FIT_ARGS)
        key = stage_key(project, fit_args, manifest, configs)
        seconds["fit"] = _fit(out, prefix, fit_args, key, reuse=True)
        tested = _test(out, prefix, common, last, seconds)
        metrics = {**tested, "project": project, "method": method, "budget": budget}
        metrics.update(describe(split))
        what = f" {metrics['split']}, test only ({budget}): {metrics['metric']} "
        what += f"{metrics[metrics['metric']]:.3f} after {metrics['steps']} steps;"
    else:
        seconds = {"start": _start()}
        predict, evaluate, untrained = [*prefix, "predict", *common], [str(out)], []
        if fit:
            key = stage_key(project, common, manifest, configs)
            seconds["fit"] = _fit(out, prefix, common, key)
            predict += ["--ckpt_path", str(last)]
            write_curves(out / "train" / "metrics.csv", out / "curves.csv")
            evaluate += ["--metrics-csv", str(out / "train" / "metrics.csv")]
        else:  # a baseline: nothing of an earlier fitted run may be read as its own
            _clear(out)
            (out / "curves.csv").unlink(missing_ok=True)
            untrained.append("--no-classifier")  # a fresh head's logits are no result
            if split and Path(split).is_file():  # probes with every split's labels
                untrained += ["--splits", str(Path(split).parent)]
        seconds["predict"] = _run("train", [*predict, *_logger(out, "predict")])
        shutil.rmtree(out / "predict", ignore_errors=True)  # only a copy of the config
        smoke = list(SMOKE_EVALUATE_ARGS if budget == "smoke" else ())
        seconds["evaluate"] = _run("evaluate", evaluate + smoke + untrained)
        metrics = json.loads((out / "metrics.json").read_text())
        what = f"{'' if fit else ', untrained'} ({budget}):"
    if fit or test_only:
        weights_only(last)
    seconds = {key: round(value, 1) for key, value in seconds.items()}
    metrics["seconds"] = {**seconds, "total": round(sum(seconds.values()), 1)}  # as written
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    times = ", ".join(f"{key} {value / 60:.1f} min" for key, value in metrics["seconds"].items())
    print(f"stage {project}/{method}{what} {times}", flush=True)
    return metrics


def _test(
    out: Path, prefix: list[str], common: list[str], last: Path, seconds: dict[str, float]
) -> dict:
    """``train test`` of ``last``; the test metrics its task names (``test_metrics``),
    which is the headline (``metric``), the steps trained and the checkpoint."""
    import yaml
    from jsonargparse.typing import import_object

    from ssl_core.results import final_metrics
    from ssl_core.resume import checkpoint_step

    shutil.rmtree(out / "test", ignore_errors=True)
    test = [*prefix, "test", *common, "--ckpt_path", str(last), *_logger(out, "test")]
    seconds["test"] = _run("train", test)
    logged = final_metrics(out / "test" / "metrics.csv")
    config = yaml.safe_load((out / "test" / "config.yaml").read_text())  # LightningCLI's
    task = import_object(config["model"]["class_path"])
    names = task.test_metrics
    shutil.rmtree(out / "test", ignore_errors=True)  # its log is now in metrics.json
    headline = task.headline(logged)  # e.g. a classifier's ROC AUC on two classes, else top-1
    if headline is None:
        wanted = " or ".join(task.headlines or tuple(names)[:1])
        raise SystemExit(
            f"pipeline: the method logged no {wanted} under `train test`: --test-only needs "
            "a method that predicts the task's targets (for classification a classifier "
            "head: supervised and the semi-supervised methods)"
        )
    return {
        **{name: logged[key] for key, name in names.items() if key in logged},
        "metric": names[headline],
        "steps": checkpoint_step(last),
        "checkpoint": str(last),
    }


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--budget", required=True, choices=BUDGETS)
    parser.add_argument("--configs", type=Path, required=True, help="the project's configs/")
    parser.add_argument("--manifest", type=Path, required=True, help="data stage's manifest.json")
    parser.add_argument(
        "--split",
        nargs="+",
        help="label split (path or name); with --test-only several, run one after another in "
        "this process, each into --out with {split} replaced by the split's name",
    )
    parser.add_argument("--out", type=Path, required=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--no-fit",
        dest="fit",
        action="store_false",
        help="no training: evaluate the config's network at its seeded random init (baseline)",
    )
    mode.add_argument(
        "--test-only",
        action="store_true",
        help="fit without validation, then `train test`: the task's test metrics only "
        "(no embeddings, probes or plots; the label-fraction comparison)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        help="optimizer steps of the fit, whatever the config says (every method alike; "
        f"budget smoke: {SMOKE_STEPS})",
    )
    args = list(sys.argv[1:] if args is None else args)
    extra = args[args.index("--") + 1 :] if "--" in args else []
    ns = parser.parse_args(args[: args.index("--")] if "--" in args else args)
    splits = ns.split or [None]
    if len(splits) > 1 and not (ns.test_only and "{split}" in str(ns.out)):
        parser.error("several --split need --test-only and an --out with {split} in it")
    for split in splits:  # one process: the imports of a stage are paid once
        out = Path(str(ns.out).replace("{split}", Path(split).stem if split else ""))
        where = (ns.project, ns.method, ns.budget, ns.configs, ns.manifest, split, out, extra)
        run_stage(*where, fit=ns.fit, steps=ns.steps, test_only=ns.test_only)


if __name__ == "__main__":  # stages run it through ssl_core.warm, which ends it fast
    main()
