"""One training stage of the DVC pipeline: fit, embed and evaluate a method on a dataset
(the stages and their outputs: ``docs/pipelines.md``).

``python -m ssl_core.pipeline --project P --method M --budget full|cpu|smoke
--configs projects/P/configs --manifest DATA/manifest.json --split SPLIT.json --out OUT
[--no-fit | --test-only] [--steps N] [-- EXTRA TRAIN ARGS]`` runs, in one process, the
commands anyone can run by hand (each printed first):

1. ``train fit`` of ``CONFIGS/M.yaml`` (budget ``full``) or ``CONFIGS/M-cpu.yaml``
   (``cpu``; ``smoke`` adds the project's ``smoke.yaml``) on the manifest's data root with
   the split: logs to ``OUT/train/``, ``OUT/checkpoints/last.ckpt`` (the final step, the
   one to report; weights only once the stage ends, :func:`weights_only`); arguments after
   ``--`` go to ``fit`` and ``predict`` (e.g. a fine-tuning stage's pretrained weights);
2. ``train predict`` with ``last.ckpt``: ``OUT/embeddings/`` (or a segmentation task's
   masks);
3. ``evaluate OUT``: ``OUT/metrics.json``, ``OUT/plots/*.png``, ``OUT/report.md``;

and ``OUT/curves.csv`` (``step,loss`` for ``dvc plots``). ``--no-fit`` is the random-init
baseline: no step 1, the config's network as seeded, and ``evaluate --splits`` probes its
frozen features with every label split's labels. ``--test-only`` is a run of the
label-fraction comparison: step 1 without validation, then ``train test`` with
``last.ckpt``; ``metrics.json`` holds the task's test metrics
(``TaskModule.test_metrics``), its headline (``metric``), the split and the steps;
``--split A.json B.json ... --out DIR/M-{split}`` runs one method's comparison runs one
after another in one process (a ``compare-<method>`` stage), each into its own folder.
``--steps N`` trains N optimizer steps whatever the config says (budget ``smoke``:
:data:`SMOKE_STEPS`). Each part's wall time goes into ``metrics.json`` as ``seconds``.
Output paths are fixed (no ``version_N``) so that DVC can declare them.

A stage killed during ``fit`` resumes when rerun: ``OUT/train`` and ``OUT/checkpoints``
are DVC ``persist`` outputs, ``OUT/train/stage.json`` records the stage's key
(:func:`stage_key`: arguments, configs, split, data, the code the run uses) and whether
the fit finished; the same key and an unfinished fit continue from
``OUT/train/checkpoints/last.ckpt`` (equal to an uninterrupted run, :mod:`ssl_core.resume`).
"""

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
# Budget smoke's optimizer steps for a --steps run, every method alike: the smoke overlays'
# two batches (an epoch of one labeled batch would otherwise stop after one step)
SMOKE_STEPS = 2
# --test-only fits without validation (the test set is scored once, after the fit); the
# CLI's LastCheckpoint still writes last.ckpt at every epoch end (see ssl_core.resume)
TEST_ONLY_FIT_ARGS = (
    "--trainer.limit_val_batches",
    "0",
    "--trainer.check_val_every_n_epoch",
    "1",
    "--trainer.val_check_interval",
    "1.0",
)


def config_path(configs: Path, method: str, budget: str) -> Path:
    """The Lightning config of ``method`` for ``budget``."""
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}, not {budget!r}")
    from ssl_core.project import recipe

    name = f"{method}.yaml" if budget == "full" else f"{method}-cpu.yaml"
    path = recipe(Path(configs), name)  # the project's own, else ssl-core's
    if path is None:
        raise FileNotFoundError(
            f"No config {Path(configs) / name} for method {method!r} (budget {budget})"
        )
    return path


def train_args(
    project: str,
    method: str,
    budget: str,
    configs: Path,
    root: str,
    split: str | None,
    extra: Sequence[str] = (),
    steps: int | None = None,
) -> tuple[list[str], list[str]]:
    """``--project`` and the arguments shared by ``train fit`` and ``train predict``;
    ``steps``: optimizer steps of the fit, whatever the config says (under budget
    ``smoke``: :data:`SMOKE_STEPS`)."""
    args = ["--project", project]
    common = ["--config", str(config_path(configs, method, budget))]
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
    return args, common + list(extra)


def _logger(out: Path, version: str, keep_before_step: int | None = None) -> str:
    """A CSV logger into ``out/version`` (resumed: keeping the rows before the step)."""
    init = {"save_dir": str(out), "name": "", "version": version}
    if keep_before_step is None:
        return json.dumps({"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": init})
    init["keep_before_step"] = keep_before_step
    return json.dumps({"class_path": "ssl_core.resume.ResumableCSVLogger", "init_args": init})


def _start(
    modules: Sequence[str] = (
        "ssl_core.cli",
        "ssl_core.evaluate.metrics",
        "ssl_core.evaluate.plots",
    ),
) -> float:
    """Import what ``train`` and ``evaluate`` need (``modules``), so that no part's time
    includes it. Returns the wall time in seconds."""
    start = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    return time.perf_counter() - start


def _run(name: str, args: list[str]) -> float:
    """Run ``train`` or ``evaluate`` in this process with ``args``, as if typed; print
    it first. Returns the wall time in seconds."""
    print("+", shlex.join([name, *args]), flush=True)
    start = time.perf_counter()
    if name == "train":
        from ssl_core.cli import cli

        cli(args)
    else:
        from ssl_core.evaluate import main as evaluate

        evaluate(args)
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
        writer = csv.writer(f)
        writer.writerow(["step", "loss"])
        writer.writerows(points)


def stage_key(
    project: str, common: Sequence[str], manifest: Path, configs_dir: Path | None = None
) -> str:
    """What a stage's training depends on, hashed: its arguments, the content of every
    file they name (configs with what they extend, the split), the data's manifest and
    the code the run uses (:func:`used_files`: ``train`` and the classes
    its configs name, with what they import, in ssl-core and the project; a change to
    the docs, another method or ``evaluate/`` keeps the key). A killed stage resumes only
    under the same key."""
    from ssl_core.project import extended

    h = hashlib.sha256()
    files, configs = [Path(manifest)], []
    for i, arg in enumerate(common):
        h.update(arg.encode() + b"\0")
        if i > 0 and common[i - 1] == "--config":
            configs += [Path(a) for a in extended(Path(arg), configs_dir) if a != "--config"]
        elif Path(arg).is_file():
            files.append(Path(arg))
    entries = ["ssl_core.cli", *class_paths(configs)]
    entries += [v for k, v in zip(common, common[1:], strict=False) if k.endswith(".class_path")]
    sources = used_files(entries, ["ssl_core", project.replace("-", "_")])
    for path in files + configs + sources:
        h.update(str(path).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# ------------------------------------------------------- the code a run uses
# Which source files of ssl-core and the project a run uses, for the resume key. "Its
# code" is not every file of ssl-core: a change to the docs, to another method or to
# ``evaluate/`` must not restart a stage that trains SimCLR. The imports are followed
# statically (``ast``, nothing executed) from ``train`` and the classes a run's configs
# name (``class_path: ...``), through the files of the given packages:
#
# - the module of every class a config names, and every module it imports, at any
#   depth, in functions too (a lazy import runs when the function does);
# - ``from package import Name`` where ``Name`` is a re-export of the package's
#   ``__init__``: that ``__init__.py`` and the module that defines ``Name``, not the
#   package's other modules (``ssl_core.methods`` imports every method; a run of one
#   method uses one); lazy packages mapping names to modules in a dict (as
#   ``ssl_core.segmentation`` does) are followed the same way.
#
# The standard library does not do this (``modulefinder`` follows every import of an
# ``__init__``, so one method's run would depend on all methods).
CLASS_PATH = re.compile(r"class_path:\s*([A-Za-z_][\w.]*)")
# an object named by a string and imported when used ("ssl_core.series.minirocket:MiniRocketProbes",
# as a modality names its evaluators)
IMPORT_STRING = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+):([A-Za-z_]\w*)")


@functools.cache
def _tree_of(path: Path, mtime_ns: int) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _tree(path: Path) -> ast.Module:
    """The parsed file (cached while the file is unchanged: a pipeline's stages walk the
    same files)."""
    return _tree_of(path, path.stat().st_mtime_ns)


def _imports(path: Path, package: str) -> list[tuple[str, str | None]]:
    """What the file imports, in order: ``(module, None)`` for ``import module``,
    ``(module, name)`` for ``from module import name`` and for a string
    ``"module:name"``; relative imports made absolute within ``package``."""
    return _imports_of(path, path.stat().st_mtime_ns, package)


@functools.cache
def _imports_of(path: Path, mtime_ns: int, package: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is not None:
                found += [(base, alias.name) for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if match := IMPORT_STRING.fullmatch(node.value):  # "pkg.module:Name"
                found.append((match.group(1), match.group(2)))
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    """The absolute module of ``from ... import`` inside ``package``."""
    if node.level == 0:
        return node.module
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: -(node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


@functools.lru_cache(maxsize=4096)
def _module_file(package_dir: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` (``""``: the package itself) below ``package_dir``."""
    path = package_dir.joinpath(*dotted.split(".")) if dotted else package_dir
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def _package_dir(top: str) -> Path | None:
    """The directory of the top-level package ``top`` (without importing it)."""
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class _Finder:
    """Resolves dotted names to files of the packages ``roots`` and walks imports."""

    def __init__(self, roots: Iterable[str] | Mapping[str, Path]) -> None:
        if isinstance(roots, Mapping):  # where each package is (installed or not)
            self.dirs = {top: Path(d) for top, d in roots.items()}
        else:
            self.dirs = {top: d for top in roots if (d := _package_dir(top)) is not None}
        self.used: set[Path] = set()  # files the run executes
        self.walked: set[Path] = set()  # files whose imports were followed

    # --------------------------------------------------------------- resolution
    def module_file(self, name: str) -> Path | None:
        """The file of module ``name`` (a package's ``__init__.py``), if one of ours."""
        top, _, rest = name.partition(".")
        return _module_file(self.dirs[top], rest) if top in self.dirs else None

    def object_file(self, dotted: str) -> None:
        """Mark the module defining ``dotted`` (a module, or ``module.Name``)."""
        if self.module_file(dotted):
            self.visit_module(dotted)
            return
        module, _, name = dotted.rpartition(".")
        if module and self.module_file(module):
            self.visit_name(module, name)

    # ------------------------------------------------------------------ walking
    def visit_module(self, module: str) -> None:
        """Use a whole module: it and every import in it."""
        path = self.module_file(module)
        if path is None or path in self.walked:
            return  # (a package's __init__ may be used, not yet walked: walk it now)
        self.used.add(path)
        self.walked.add(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for module_name, name in _imports(path, package):
            if name is None:
                self._visit_prefixes(module_name)
            else:
                self.visit_name(module_name, name)

    def visit_name(self, module: str, name: str) -> None:
        """Use ``name`` of ``module``: a submodule, or what the module defines or
        re-exports (for a package, only the module that provides ``name``)."""
        self._visit_parents(module)
        if self.module_file(f"{module}.{name}"):
            self.visit_module(f"{module}.{name}")
            return
        path = self.module_file(module)
        if path is None:
            return
        if path.name != "__init__.py":
            self.visit_module(module)
            return
        self.used.add(path)  # the package's __init__ runs; follow only ``name``'s source
        source = self._reexport(path, module, name)
        if source is None:
            self.visit_module(module)  # defined in __init__ itself, or unknown: all of it
        else:
            self.visit_name(*source)

    def _reexport(self, init: Path, package: str, name: str) -> tuple[str, str] | None:
        """Where ``package/__init__.py`` takes ``name`` from: ``(module, name)``."""
        tree = _tree(init)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        base = _absolute(node, package)
                        return (base, alias.name) if base else None
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == name
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):  # a lazy package: {"Name": "submodule"}
                        return f"{package}.{value.value}", name
        return None

    def _visit_prefixes(self, dotted: str) -> None:
        """``import a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``."""
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            path = self.module_file(".".join(parts[:i]))
            if path is not None and path.name == "__init__.py":
                self.used.add(path)
        self.visit_module(dotted)

    def _visit_parents(self, module: str) -> None:
        parts = module.split(".")
        for i in range(1, len(parts)):
            path = self.module_file(".".join(parts[:i]))
            if path is not None:
                self.used.add(path)


def class_paths(configs: Iterable[Path]) -> list[str]:
    """Every ``class_path: a.b.C`` written in the config files ``configs``."""
    found: list[str] = []
    for config in configs:
        found += CLASS_PATH.findall(Path(config).read_text())
    return found


def used_files(entries: Iterable[str], packages: Iterable[str] | Mapping[str, Path]) -> list[Path]:
    """The source files of ``packages`` that the modules or objects ``entries`` (dotted
    names: ``ssl_core.cli``, ``ssl_core.methods.SimCLR``) use, sorted.

    Args:
        entries: Modules or ``module.Name`` objects a run starts from.
        packages: Top-level packages whose files count (e.g. ``["ssl_core", "imagenette"]``,
            found where Python imports them, or ``{name: folder}``); imports of anything
            else (torch, lightly) are not followed.
    """
    finder = _Finder(packages)
    for entry in entries:
        finder.object_file(entry)
    return sorted(finder.used)


def _fit(out: Path, prefix: list[str], common: list[str], key: str) -> float:
    """``train fit`` into ``out/train``, resumed from its ``last.ckpt`` when an earlier
    run of the same stage (same :func:`stage_key`) was killed before it finished (the
    stage's outputs are DVC ``persist`` outputs, so DVC leaves them for this); anything
    else left in ``out`` is cleared and the fit starts fresh."""
    from ssl_core.resume import checkpoint_step

    marker, last = out / "train" / STAGE_MARKER, out / "train" / "checkpoints" / "last.ckpt"
    state = json.loads(marker.read_text()) if marker.is_file() else {}
    args = [*prefix, "fit", *common, "--trainer.default_root_dir", str(out)]
    if state.get("key") == key and not state.get("finished") and last.is_file():
        print(f"stage: resuming the killed fit from {last}", flush=True)
        logger = _logger(out, "train", keep_before_step=checkpoint_step(last))
        args += ["--trainer.logger", logger, "--ckpt_path", str(last)]
    else:
        for stale in ("train", "checkpoints"):
            shutil.rmtree(out / stale, ignore_errors=True)
        args += ["--trainer.logger", _logger(out, "train")]
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"key": key, "finished": False}) + "\n")
    seconds = _run("train", args)
    marker.write_text(json.dumps({"key": key, "finished": True, "seconds": seconds}) + "\n")
    return seconds


def _finished(out: Path, key: str) -> tuple[Path, float] | None:
    """``out/checkpoints/last.ckpt`` and the fit's seconds when the fit of ``out`` finished
    under ``key`` (both are ``persist`` outputs): a ``compare-<method>`` stage, killed and
    rerun, tests the splits it had trained instead of training them again."""
    marker, last = out / "train" / STAGE_MARKER, out / "checkpoints" / "last.ckpt"
    state = json.loads(marker.read_text()) if marker.is_file() else {}
    done = state.get("key") == key and state.get("finished") and "seconds" in state
    return (last, state["seconds"]) if done and last.is_file() else None


def _move_checkpoints(out: Path) -> Path:
    """Lightning puts checkpoints under the logger's folder; DVC gets them on their own
    (``out/checkpoints``). Only ``last.ckpt`` is kept: a stage reports the final step
    (Oliver et al. 2018), and the others a config's ``ModelCheckpoint`` wrote (per epoch,
    best by training loss) doubled the disk a pipeline takes (a Mean Teacher ResNet-18
    checkpoint is 134 MB: the smoke pipeline's results held 7.9 GB, as much again in
    the DVC cache). Returns ``out/checkpoints/last.ckpt``."""
    checkpoints = out / "checkpoints"
    shutil.rmtree(checkpoints, ignore_errors=True)
    shutil.move(out / "train" / "checkpoints", checkpoints)
    last = checkpoints / "last.ckpt"
    if last.is_symlink():  # ModelCheckpoint(save_last="link"): keep the file, not the link
        target = last.resolve()
        last.unlink()
        shutil.move(target, last)
    for other in checkpoints.iterdir():
        if other.is_dir() and not other.is_symlink():
            shutil.rmtree(other)
        elif other.name != "last.ckpt":
            other.unlink()
    return last


def weights_only(checkpoint: Path) -> None:
    """Drop the optimizer and scheduler states from a finished stage's ``checkpoint``
    (rewritten in place): what a stage keeps is its final model, which ``train
    predict``/``test``, ``--ckpt_path`` and fine-tuning read. AdamW's two moments made a
    U-Net checkpoint three times its weights (172 MB), and DVC hashes and caches every
    one. A killed stage still resumes: it does from ``OUT/train/checkpoints/last.ckpt``,
    written by the fit before this runs. Continuing a finished run's training is a new
    run from these weights."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)  # our own file
    if not {"optimizer_states", "lr_schedulers"} & state.keys():
        return
    for key in ("optimizer_states", "lr_schedulers"):
        state.pop(key, None)
    partial = checkpoint.with_name(checkpoint.name + ".partial")
    torch.save(state, partial)
    partial.replace(checkpoint)


def _seconds(parts: dict[str, float]) -> dict[str, float]:
    seconds = {key: round(value, 1) for key, value in parts.items()}
    seconds["total"] = round(sum(seconds.values()), 1)  # the parts as written add up
    return seconds


def task_class(config_yaml: Path) -> type:
    """The model class (a :class:`~ssl_core.task.TaskModule`) a run's saved config names."""
    import yaml
    from jsonargparse.typing import import_object

    model = (yaml.safe_load(Path(config_yaml).read_text()) or {}).get("model") or {}
    class_path = model.get("class_path") if isinstance(model, dict) else None
    if not class_path:
        raise SystemExit(f"pipeline: {config_yaml} names no model.class_path")
    return import_object(class_path)


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
    """One stage, any task, everything under ``out`` (see the module docstring): fit
    (unless ``fit`` is false: the random-init baseline), predict and evaluate; or with
    ``test_only`` fit without validation, then ``train test`` with ``last.ckpt``.
    Returns the content of ``out/metrics.json``."""
    out = Path(out)
    prefix, common = train_args(
        project, method, budget, Path(configs), str(data_root(manifest)), split, extra, steps
    )
    if test_only:
        from ssl_core.splits import describe

        seconds = {"start": _start(("ssl_core.cli", "ssl_core.results"))}  # no evaluate
        fit_args = common + list(TEST_ONLY_FIT_ARGS)
        key = stage_key(project, fit_args, manifest, Path(configs))
        done = _finished(out, key)
        if done is None:
            seconds["fit"] = _fit(out, prefix, fit_args, key)
            last = _move_checkpoints(out)
        else:  # a comparison stage killed after this split: its fit is done
            last, seconds["fit"] = done
            print(f"stage: {out} finished its fit under the same key; testing {last}", flush=True)
        tested = _test(out, prefix, common, last, seconds)
        metrics = {"project": project, "method": method, "budget": budget, **describe(split)}
        metrics = {
            **tested,
            **metrics,
            "steps": tested["steps"],
            "checkpoint": tested["checkpoint"],
        }
        what = f" {metrics['split']}, test only"
        what += f" ({budget}): {metrics['metric']} {metrics[metrics['metric']]:.3f}"
        what += f" after {metrics['steps']} steps;"
    else:
        seconds = {"start": _start()}
        metrics = _predict_evaluate(
            out, prefix, common, project, manifest, fit, budget, seconds, split, Path(configs)
        )
        what = f"{'' if fit else ', untrained'} ({budget}):"
    if fit or test_only:
        weights_only(out / "checkpoints" / "last.ckpt")
    metrics["seconds"] = _seconds(seconds)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(
        f"stage {project}/{method}{what} "
        + ", ".join(f"{key} {value / 60:.1f} min" for key, value in metrics["seconds"].items()),
        flush=True,
    )
    return metrics


def _predict_evaluate(
    out: Path,
    prefix: list[str],
    common: list[str],
    project: str,
    manifest: Path,
    fit: bool,
    budget: str,
    seconds: dict[str, float],
    split: str | None = None,
    configs: Path | None = None,
) -> dict:
    """Fit (``fit``), ``train predict`` and ``evaluate``; the time of each into
    ``seconds``. Without ``fit`` (the random-init baseline) ``evaluate`` also probes the
    frozen features with the labels of every split beside ``split`` (``--splits``: the
    label-fraction comparison's no-training rows). Returns what ``evaluate`` wrote to
    ``out/metrics.json``."""
    predict, evaluate = [*prefix, "predict", *common], [str(out)]
    if fit:
        seconds["fit"] = _fit(out, prefix, common, stage_key(project, common, manifest, configs))
        last = _move_checkpoints(out)
        write_curves(out / "train" / "metrics.csv", out / "curves.csv")
        predict += ["--ckpt_path", str(last)]
        evaluate += ["--metrics-csv", str(out / "train" / "metrics.csv")]
    else:  # a baseline: nothing of an earlier fitted run may be read as its own
        for stale in ("train", "checkpoints"):
            shutil.rmtree(out / stale, ignore_errors=True)
        (out / "curves.csv").unlink(missing_ok=True)
    logger = ["--trainer.default_root_dir", str(out), "--trainer.logger", _logger(out, "predict")]
    seconds["predict"] = _run("train", [*predict, *logger])
    shutil.rmtree(out / "predict", ignore_errors=True)  # only a copy of the config
    smoke = list(SMOKE_EVALUATE_ARGS if budget == "smoke" else ())
    untrained = [] if fit else ["--no-classifier"]  # a fresh head's logits are no result
    if not fit and split and Path(split).is_file():
        untrained += ["--splits", str(Path(split).parent)]
    seconds["evaluate"] = _run("evaluate", evaluate + smoke + untrained)
    return json.loads((out / "metrics.json").read_text())


def _test(
    out: Path, prefix: list[str], common: list[str], last: Path, seconds: dict[str, float]
) -> dict:
    """``train test`` of ``last``; the test metrics its task names (``test_metrics``),
    which is the headline (``metric``), the steps trained and the checkpoint."""
    from ssl_core.results import final_metrics
    from ssl_core.resume import checkpoint_step

    shutil.rmtree(out / "test", ignore_errors=True)
    logger = ["--trainer.default_root_dir", str(out), "--trainer.logger", _logger(out, "test")]
    seconds["test"] = _run("train", [*prefix, "test", *common, "--ckpt_path", str(last), *logger])
    logged = final_metrics(out / "test" / "metrics.csv")
    task = task_class(out / "test" / "config.yaml")
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
