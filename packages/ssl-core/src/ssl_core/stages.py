"""Each project's pipeline, written from its entries: ``projects/<p>/dvc.yaml`` from
``projects/<p>/params.yaml`` (the stages and their outputs: ``docs/pipelines.md``).

``uv run python -m ssl_core.stages [--check]`` writes (or, ``--check``, compares) every
project's ``dvc.yaml`` and the root ``dvc.yaml``;
``uv run python -m ssl_core.stages --experiments P [--check]`` writes (compares)
``projects/P/experiments.json``, every experiment of the project merged as ``train``
reads it, for each method and budget (the project's ``experiments`` stage runs it).

Why generated: a stage's code dependencies are the files its run imports, which differ
per stage, and DVC cannot template a list of dependencies per ``foreach`` item
(iterative/dvc issue 8171). So each stage lists:

- **deps**: the source files of ssl-core and the project that its commands use, found by
  the static import walk of the resume key (:func:`ssl_core.pipeline.used_files`): an edit
  to one project leaves every other project's stages up to date, an edit to one method
  leaves the stages of the methods that do not import it up to date; plus the data, the
  splits, ``uv.lock``, and a local source's folder (an edit to data used in place is seen);
- **params**: the root ``params.yaml``'s ``budget`` (the one knob) and the stage's own
  experiment under that budget in ``projects/<p>/experiments.json``
  (``simclr.cpu``): what the run reads, merged, hyperparameters visible to
  ``dvc params diff`` and ``dvc exp show``, and nothing of another budget's recipe.

Each project's stages run from the repository root (``wdir``), so paths read the same in
every ``dvc.yaml``; each project keeps its own ``dvc.lock``. The root ``dvc.yaml`` holds
only what spans projects: ``summary`` (``results/summary.md``, every project's pairs),
which depends on every project's results, so ``dvc repro`` at the root reproduces
everything and ``dvc repro projects/P/dvc.yaml`` one project.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from ssl_core.errors import InputError, exits_on_input_errors
from ssl_core.manifest import SOURCE_KEYWORDS
from ssl_core.pipeline import BUDGETS
from ssl_core.project import recipe_methods

PIPELINE = "dvc.yaml"
PARAMS = "params.yaml"
#: JSON, not YAML: DVC reads a stage's params file at each status check and again when it
#: saves the stage, and its pure-Python YAML parser took 0.77 s for one project's 6,400 lines
#: (about 2 min of a smoke run); ``json`` reads the same in 2 ms.
EXPERIMENTS = "experiments.json"
SUMMARY = "results/summary.md"
#: `uv run dvc repro` synced the venv once; ssl_core.warm forks the stage from a process that
#: has imported torch and Lightning already (docs/pipelines.md, "Stages start warm").
RUN = "uv run --no-sync python -m ssl_core.warm"
HEADER = (
    "# Written by `uv run python -m ssl_core.stages` from {params}: edit that file, then\n"
    "# rerun the command (a test fails while this file is out of date). Docs: docs/pipelines.md\n"
)
#: What each entry of a project's params.yaml may hold.
PAIR_KEYS = {"method", "split", "from"}


class StagesError(InputError, ValueError):
    """A project's params.yaml that no pipeline can be written from."""


# ------------------------------------------------------------------ the entries
def repo_root(start: Path | None = None) -> Path:
    """The workspace root: the nearest folder upward holding ``params.yaml`` and
    ``projects/``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS).is_file() and (folder / "projects").is_dir():
            return folder
    raise StagesError(f"No workspace root (params.yaml and projects/) at or above {here}")


def project_names(repo: Path) -> list[str]:
    """The projects with a pipeline: folders of ``projects/`` holding a ``params.yaml``."""
    return sorted(p.parent.name for p in (repo / "projects").glob(f"*/{PARAMS}"))


def load_entries(repo: Path, project: str) -> dict:
    """``projects/<project>/params.yaml``, checked."""
    path = repo / "projects" / project / PARAMS
    entries = yaml.safe_load(path.read_text()) or {}
    for key in ("source", "splits"):
        if key not in entries:
            raise StagesError(f"{path} has no `{key}`")
    for name, pair in (entries.get("pairs") or {}).items():
        unknown = set(pair) - PAIR_KEYS
        if unknown or "split" not in pair:
            raise StagesError(
                f"{path}: pair {name!r} needs a `split` and may set {sorted(PAIR_KEYS)}, "
                f"not {sorted(unknown)}"
            )
        if pair.get("from") and pair["from"] not in entries["pairs"]:
            raise StagesError(f"{path}: pair {name!r} starts from {pair['from']!r}, no pair")
    return entries


def local_source(source: str) -> bool:
    """Whether a ``source`` is a folder used in place (not ``download`` or ``generate``)."""
    return source not in SOURCE_KEYWORDS


# ------------------------------------------------------------- code dependencies
def _package(project: str) -> str:
    return project.replace("-", "_")


def config_files(configs: Path, method: str) -> list[Path]:
    """Every config file a run of ``method`` may read under any budget: its recipes, what
    they extend and the smoke overlay."""
    from ssl_core.project import extended, recipe

    files: list[Path] = []
    for name in (f"{method}.yaml", f"{method}-cpu.yaml", "smoke.yaml"):
        if (path := recipe(configs, name)) is not None:
            files += [Path(a) for a in extended(path, configs) if a != "--config"]
    return list(dict.fromkeys(files))


def code_deps(
    repo: Path, project: str | None, entries: Iterable[str], configs: Iterable[Path] = ()
) -> list[str]:
    """The files of ssl-core and of ``project`` that modules ``entries`` (the project's
    package among them where the run imports it) and the classes named in ``configs``
    use, relative to ``repo``."""
    from ssl_core.pipeline import class_paths, used_files

    packages = {"ssl_core": repo / CORE}
    if project is not None:  # the project's package, installed or not (new-project)
        packages[_package(project)] = repo / "projects" / project / "src" / _package(project)
    used = used_files([*entries, *class_paths(configs)], packages)
    return [_relative(repo, f) for f in used]


CORE = "packages/ssl-core/src/ssl_core"  # where ssl-core's files are in a workspace


def _relative(repo: Path, path: Path) -> str:
    """``path`` as the stages of ``repo`` name it; a file of the installed ssl-core (its
    recipes) by its place in the workspace."""
    path = Path(path).resolve()
    if path.is_relative_to(repo):
        return path.relative_to(repo).as_posix()
    installed = Path(__file__).resolve().parent
    if path.is_relative_to(installed):
        return f"{CORE}/{path.relative_to(installed).as_posix()}"
    raise StagesError(f"{path} is outside {repo}: install the workspace editable (`uv sync`)")


# ------------------------------------------------------------------- the stages
def _stage(cmd: str, deps: list[str], params: list, outs: list, **extra) -> dict:
    stage = {"cmd": cmd, "wdir": "../..", "deps": list(dict.fromkeys(deps)), "params": params}
    stage["outs"] = outs
    stage.update(extra)
    return stage


def _run_outs(out: str, segmentation: bool, fitted: bool = True) -> tuple[list, dict]:
    """A training stage's outputs and metrics/plots under ``out``."""
    outs: list = []
    if fitted:
        # persist: a killed stage, rerun, resumes its fit from train/checkpoints/last.ckpt
        # (ssl_core.pipeline checks that config, data and code are the same)
        outs += [{f"{out}/checkpoints": {"persist": True}}, {f"{out}/train": {"persist": True}}]
    outs += [f"{out}/masks", f"{out}/per_image.csv"] if segmentation else [f"{out}/embeddings"]
    outs.append(f"{out}/report.md")
    plots: list = [f"{out}/plots"]
    if fitted:
        plots.insert(0, {f"{out}/curves.csv": {"cache": False, "x": "step", "y": "loss"}})
    return outs, {"metrics": [{f"{out}/metrics.json": {"cache": False}}], "plots": plots}


def project_stages(repo: Path, project: str) -> dict:
    """The ``stages`` of ``projects/<project>/dvc.yaml``."""
    repo = Path(repo).resolve()
    entries = load_entries(repo, project)
    here = f"projects/{project}"
    configs = repo / here / "configs"
    data, splits, lock = f"{here}/data/{project}", f"{here}/splits", "uv.lock"
    manifest = f"{data}/manifest.json"
    own = f"{here}/{PARAMS}"
    segmentation = entries.get("task", "classification") == "segmentation"
    package = _package(project)  # what `--project` imports
    stages: dict[str, dict] = {}

    # a folder used in place: DVC hashes its content (the path is the params' own, so an
    # edit of it is followed; a switch to download/generate needs this command rerun)
    source_deps = ["${source}"] if local_source(str(entries["source"])) else []
    stages["data"] = _stage(
        f"{RUN} ssl_core.acquire --project {project} --source '${{source}}' "
        f"--variant '${{variant}}' --out {data}",
        [*code_deps(repo, project, ["ssl_core.acquire", package]), *source_deps],
        [{own: ["source", "variant"]}],
        # the downloaded copy (source: download) or only manifest.json naming the data
        [data],
    )
    split_args = " ".join(
        f"--{key} {' '.join(str(v) for v in entries['splits'][key])}"
        for key in ("fractions", "counts", "seeds")
        if key in entries["splits"]
    )
    stages["splits"] = _stage(
        f"{RUN} ssl_core.splits --project {project} --manifest {manifest} "
        f"--out {splits} {split_args}",
        [data, *code_deps(repo, project, ["ssl_core.splits", package])],
        [{own: ["splits"]}],
        [splits],
    )
    methods = recipe_methods(configs)
    recipes = [f for m in methods for f in config_files(configs, m)]
    core = sorted({_relative(repo, f) for f in recipes if f.parent != configs})
    stages["experiments"] = _stage(
        f"{RUN} ssl_core.stages --experiments {project}",
        [
            f"{here}/configs",
            *core,  # the recipes of ssl-core that the project takes
            *code_deps(
                repo,
                project,
                ["ssl_core.stages", "ssl_core.cli", package],
                recipes,
            ),
            lock,
        ],
        [],
        [{f"{here}/{EXPERIMENTS}": {"cache": False}}],
    )

    def run(name: str, method: str, split: str, out: str, *flags: str, extra: str = "") -> dict:
        files = config_files(configs, method)
        if method not in methods:  # its experiments.json entry is what the stage tracks
            raise StagesError(
                f"{own}: {name!r} runs {method!r}, which has no {method}.yaml and "
                f"{method}-cpu.yaml in {configs} (nor in ssl-core's recipes)"
            )
        cmd = (
            f"{RUN} ssl_core.pipeline {' '.join(flags)} --project {project} --method {method} "
            f"--budget ${{budget}} --configs {here}/configs --manifest {manifest} "
            f"--split {split} --out {out}{extra}"
        ).replace("pipeline  --", "pipeline --")
        deps = [data, splits, *code_deps(repo, project, ["ssl_core.pipeline", package], files)]
        params = [{PARAMS: ["budget"]}, {f"{here}/{EXPERIMENTS}": [f"{method}.${{budget}}"]}]
        return {"cmd": cmd, "deps": [*deps, lock], "params": params}

    baseline = entries.get("random_init")
    if baseline:
        out = f"results/{project}/random-init"
        stage = run(
            "random-init",
            baseline["baseline"],
            f"{splits}/{baseline['split']}.json",
            out,
            "--no-fit",
        )
        outs, extra = _run_outs(out, segmentation, fitted=False)
        stages["random-init"] = _stage(**stage, outs=outs, **extra)

    for name, pair in (entries.get("pairs") or {}).items():
        if name in stages:
            raise StagesError(f"{own}: a pair may not be named {name!r} (a stage of its own)")
        out = f"results/{project}/{name}"
        start = pair.get("from")
        extra = (
            f" -- --model.backbone.init_args.weights results/{project}/{start}/checkpoints/last.ckpt"
            if start
            else ""
        )
        stage = run(
            name, pair.get("method", name), f"{splits}/{pair['split']}.json", out, extra=extra
        )
        if start:  # fine-tuning starts from another pair's last checkpoint
            stage["deps"].insert(0, f"results/{project}/{start}/checkpoints")
        outs, more = _run_outs(out, segmentation)
        stages[name] = _stage(**stage, outs=outs, **more)

    comparison = entries.get("comparison") or {}
    compared: list[str] = []  # every comparison run's metrics.json
    for method, names in (comparison.get("runs") or {}).items():
        outs, metrics = [], []
        for split in names:
            out = f"results/{project}/compare/{method}-{split}"
            # persist: a killed stage, rerun, tests the splits it had trained and resumes
            # the fit it was in (ssl_core.pipeline checks config, data and code)
            outs += [{f"{out}/checkpoints": {"persist": True}}, {f"{out}/train": {"persist": True}}]
            metrics.append({f"{out}/metrics.json": {"cache": False}})
            compared.append(f"{out}/metrics.json")
        stage = run(
            f"compare-{method}",
            method,
            " ".join(f"{splits}/{s}.json" for s in names),
            f"results/{project}/compare/{method}-{{split}}",
            "--test-only",
            "--steps",
            str(comparison["steps"]),
        )
        stages[f"compare-{method}"] = _stage(**stage, outs=outs, metrics=metrics)
    if compared:
        if not baseline:
            raise StagesError(f"{own}: a comparison needs `random_init` (its no-training rows)")
        stages["compare-report"] = _stage(
            f"{RUN} ssl_core.results results/{project} --compare --params {own} "
            f"--random-init results/{project}/random-init",
            [
                *compared,
                f"results/{project}/random-init/metrics.json",
                *code_deps(repo, project, ["ssl_core.results"]),
            ],
            [{own: ["comparison"]}],  # which runs it reads and lists as missing
            [{f"results/{project}/compare.md": {"cache": False}}],
            plots=[{f"results/{project}/compare.png": {"cache": False}}],
        )
    return stages


def project_pipeline(repo: Path, project: str, stages: dict | None = None) -> str:
    """The text of ``projects/<project>/dvc.yaml`` (of its ``stages``, if computed)."""
    body = {
        # the budget (root params.yaml) and this project's entries, for the commands
        "vars": [f"../../{PARAMS}:budget", PARAMS],
        "stages": stages if stages is not None else project_stages(repo, project),
    }
    text = yaml.safe_dump(body, sort_keys=False, width=100)
    return HEADER.format(params=f"projects/{project}/{PARAMS}") + text


def _path(item: str | dict) -> str:
    """The path of a ``deps``/``outs``/``metrics`` item (``path`` or ``{path: options}``)."""
    return item if isinstance(item, str) else next(iter(item))


def root_pipeline(repo: Path, stages: dict[str, dict] | None = None) -> str:
    """The text of the root ``dvc.yaml``: ``summary``, after every project's results
    (``stages``: each project's, if computed)."""
    repo = Path(repo).resolve()
    if stages is None:
        stages = {p: project_stages(repo, p) for p in project_names(repo)}
    deps = []
    for pipeline in stages.values():
        for name, stage in pipeline.items():
            if name.startswith("compare-") and name != "compare-report":
                continue  # its runs are read through compare-report's table
            deps += [_path(m) for m in stage.get("metrics", [])]
            if name == "compare-report":
                deps += [_path(o) for o in stage["outs"]]
    folders = " ".join(f"results/{p}" for p in stages)
    summary = {
        "cmd": f"{RUN} ssl_core.results {folders} --summary --out {SUMMARY}",
        "deps": [*deps, *code_deps(repo, None, ["ssl_core.results"])],
        "outs": [{SUMMARY: {"cache": False}}],
    }
    text = yaml.safe_dump({"stages": {"summary": summary}}, sort_keys=False, width=100)
    return (
        "# The whole pipeline: `uv run dvc repro` here reproduces every project's stages\n"
        "# (projects/<p>/dvc.yaml, pulled in by `summary`, which reads all their results);\n"
        "# `uv run dvc repro projects/<p>/dvc.yaml` one project.\n"
        + HEADER.format(params="the projects' params.yaml")
        + text
    )


def pipelines(repo: Path) -> dict[Path, str]:
    """Every generated ``dvc.yaml``: path -> text."""
    repo = Path(repo).resolve()
    stages = {p: project_stages(repo, p) for p in project_names(repo)}
    files = {
        repo / "projects" / p / PIPELINE: project_pipeline(repo, p, s) for p, s in stages.items()
    }
    files[repo / PIPELINE] = root_pipeline(repo, stages)
    return files


def merged_config(project: str, configs: Path, method: str, budget: str) -> dict:
    """The experiment ``train fit`` runs for ``method`` under ``budget``, merged (what
    ``--print_config`` shows), without the data root (set per machine)."""
    from ssl_core.cli import FitOnlyCLI, cli
    from ssl_core.pipeline import train_args

    prefix, common = train_args(project, method, budget, Path(configs), "DATA_ROOT", None)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
        cli([*prefix, "fit", *common, "--print_config"], FitOnlyCLI)
    merged = yaml.safe_load(printed.getvalue())
    if not isinstance(merged, dict):
        raise StagesError(f"`train fit --print_config` of {method} ({budget}) printed no config")
    merged.get("data", {}).get("init_args", {}).pop("root", None)
    return merged


def _merged_config(args: tuple[str, Path, str, str]) -> dict:
    return merged_config(*args)


def experiments(repo: Path, project: str) -> str:
    """The text of ``projects/<project>/experiments.json``.

    The merges (about 0.3 s each, 30-50 a project) run in one forked process per core:
    each builds a LightningCLI parser and touches no tensor, so forking is safe."""
    configs = Path("projects", project, "configs")
    with contextlib.chdir(repo):  # the stage's working folder: paths as the stages give them
        runs = [
            (project, configs, method, budget)
            for method in recipe_methods(configs)
            for budget in BUDGETS
            if budget != "smoke" or (configs / "smoke.yaml").is_file()
        ]
        workers = max(1, min(len(os.sched_getaffinity(0)), 4, len(runs)))
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=fork) as pool:
            configs_merged = list(pool.map(_merged_config, runs, chunksize=4))
    merged: dict[str, dict] = {}
    for (_, _, method, budget), config in zip(runs, configs_merged, strict=True):
        merged.setdefault(method, {})[budget] = config
    # Written by the project's `experiments` stage from configs/ (JSON holds no comment:
    # docs/pipelines.md explains the file); training stages track their entry as params.
    return json.dumps(merged, indent=1, allow_nan=False) + "\n"


# ---------------------------------------------------------------------- command
def _write_or_check(files: dict[Path, str], check: bool, repo: Path) -> int:
    stale = [path for path, text in files.items() if not path.is_file() or path.read_text() != text]
    for path in stale:
        name = path.relative_to(repo)
        if check:
            print(f"out of date: {name}", file=sys.stderr)
        else:
            path.write_text(files[path])
            print(f"wrote {name}")
    return 1 if check and stale else 0


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ssl_core.stages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    parser.add_argument(
        "--experiments", metavar="PROJECT", nargs="+", help="write projects/P/experiments.json"
    )
    parser.add_argument("--repo", type=Path, help="the workspace root (default: found upward)")
    ns = parser.parse_args(args)
    with exits_on_input_errors("ssl_core.stages"):
        repo = repo_root(ns.repo)
        if ns.experiments:
            files = {
                repo / "projects" / p / EXPERIMENTS: experiments(repo, p) for p in ns.experiments
            }
        else:
            files = pipelines(repo)
        code = _write_or_check(files, ns.check, repo)
    if code:
        print(
            "run `uv run python -m ssl_core.stages` (and --experiments P) to update",
            file=sys.stderr,
        )
    raise SystemExit(code)


if __name__ == "__main__":
    main()
