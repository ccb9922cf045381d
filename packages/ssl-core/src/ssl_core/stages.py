"""Each project's pipeline, written from its entries: ``projects/<p>/dvc.yaml`` from
``projects/<p>/params.yaml`` (``docs/pipelines.md``, "Generated pipelines")."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
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
#: JSON, not YAML: DVC's YAML parser took 0.77 s per read of it (``json``: 2 ms).
EXPERIMENTS = "experiments.json"
SUMMARY = "results/summary.md"
RUN = "uv run --no-sync python -m ssl_core.warm"
HEADER = (
    "# Written by `uv run python -m ssl_core.stages` from {params}: edit that file, then\n"
    "# rerun the command (a test fails while this file is out of date). Docs: docs/pipelines.md\n"
)
PAIR_KEYS = {"method", "split", "from"}


class StagesError(InputError, ValueError):
    """A project's params.yaml that no pipeline can be written from."""


def repo_root(start: Path | None = None) -> Path:
    """The nearest folder upward holding ``params.yaml`` and ``projects/``."""
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


def config_files(configs: Path, method: str) -> list[Path]:
    """Every config a run of ``method`` may read: its recipes, what they extend, smoke.yaml."""
    from ssl_core.project import extended, recipe

    files: list[Path] = []
    for name in (f"{method}.yaml", f"{method}-cpu.yaml", "smoke.yaml"):
        if (path := recipe(configs, name)) is not None:
            files += [Path(a) for a in extended(path, configs) if a != "--config"]
    return list(dict.fromkeys(files))


def code_deps(
    repo: Path, project: str | None, entries: Iterable[str], configs: Iterable[Path] = ()
) -> list[str]:
    """The files of ssl-core and ``project`` used by modules ``entries`` and ``configs``."""
    from ssl_core.pipeline import used_files

    packages = {"ssl_core": repo / CORE}
    if project is not None:  # the project's package, installed or not (new-project)
        package = project.replace("-", "_")
        packages[package] = repo / "projects" / project / "src" / package
    used = used_files(entries, packages, configs)
    return [_relative(repo, f) for f in used]


CORE = "packages/ssl-core/src/ssl_core"  # where ssl-core's files are in a workspace


def _relative(repo: Path, path: Path) -> str:
    """``path`` as the stages name it (a file of the installed ssl-core: as in the workspace)."""
    path = Path(path).resolve()
    if path.is_relative_to(repo):
        return path.relative_to(repo).as_posix()
    installed = Path(__file__).resolve().parent
    if path.is_relative_to(installed):
        return f"{CORE}/{path.relative_to(installed).as_posix()}"
    raise StagesError(f"{path} is outside {repo}: install the workspace editable (`uv sync`)")


def _stage(cmd: str, deps: list[str], params: list, outs: list, **extra) -> dict:
    deps = list(dict.fromkeys(deps))
    return {"cmd": cmd, "wdir": "../..", "deps": deps, "params": params, "outs": outs, **extra}


def _persist(out: str) -> list:
    """A fit's outputs that DVC leaves in place, for a killed stage's resume (docs/pipelines.md)."""
    return [{f"{out}/checkpoints": {"persist": True}}, {f"{out}/train": {"persist": True}}]


def _run_outs(out: str, segmentation: bool, fitted: bool) -> dict:
    outs = _persist(out) if fitted else []
    outs += [f"{out}/masks", f"{out}/per_image.csv"] if segmentation else [f"{out}/embeddings"]
    outs.append(f"{out}/report.md")
    plots: list = [f"{out}/plots"]
    if fitted:
        plots.insert(0, {f"{out}/curves.csv": {"cache": False, "x": "step", "y": "loss"}})
    return {"outs": outs, "metrics": [{f"{out}/metrics.json": {"cache": False}}], "plots": plots}


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
    package = project.replace("-", "_")  # what `--project` imports
    stages: dict[str, dict] = {}

    # a folder used in place: DVC hashes its content
    source_deps = ["${source}"] if str(entries["source"]) not in SOURCE_KEYWORDS else []
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
            *code_deps(repo, project, ["ssl_core.stages", "ssl_core.cli", package], recipes),
            lock,
        ],
        [],
        [{f"{here}/{EXPERIMENTS}": {"cache": False}}],
    )

    def run(
        name: str, method: str, split: str, out: str, *flags: str, start: str | None = None, **more
    ) -> dict:
        """``start``: the pair whose checkpoint it fine-tunes; ``more``: ``outs`` and
        ``metrics`` (default: a fit's, or with ``--no-fit`` a baseline's)."""
        if method not in methods:  # its experiments.json entry is what the stage tracks
            raise StagesError(
                f"{own}: {name!r} runs {method!r}, which has no {method}.yaml and "
                f"{method}-cpu.yaml in {configs} (nor in ssl-core's recipes)"
            )
        cmd = (
            f"{RUN} {' '.join(['ssl_core.pipeline', *flags])} --project {project} "
            f"--method {method} --budget ${{budget}} --configs {here}/configs "
            f"--manifest {manifest} --split {split} --out {out}"
        )
        deps = [f"results/{project}/{start}/checkpoints"] if start else []
        if start:
            cmd += f" -- --model.backbone.init_args.weights {deps[0]}/last.ckpt"
        files = config_files(configs, method)
        deps += [data, splits, *code_deps(repo, project, ["ssl_core.pipeline", package], files)]
        params = [{PARAMS: ["budget"]}, {f"{here}/{EXPERIMENTS}": [f"{method}.${{budget}}"]}]
        more = more or _run_outs(out, segmentation, fitted="--no-fit" not in flags)
        return _stage(cmd, [*deps, lock], params, **more)

    if baseline := entries.get("random_init"):
        out = f"results/{project}/random-init"
        split = f"{splits}/{baseline['split']}.json"
        stages["random-init"] = run("random-init", baseline["baseline"], split, out, "--no-fit")

    for name, pair in (entries.get("pairs") or {}).items():
        if name in stages:
            raise StagesError(f"{own}: a pair may not be named {name!r} (a stage of its own)")
        out = f"results/{project}/{name}"
        split = f"{splits}/{pair['split']}.json"
        stages[name] = run(name, pair.get("method", name), split, out, start=pair.get("from"))

    comparison = entries.get("comparison") or {}
    compared: list[str] = []  # every comparison run's metrics.json
    for method, names in (comparison.get("runs") or {}).items():
        outs, metrics = [], []
        for split in names:
            out = f"results/{project}/compare/{method}-{split}"
            outs += _persist(out)  # a killed stage, rerun, tests the splits it had trained
            metrics.append({f"{out}/metrics.json": {"cache": False}})
            compared.append(f"{out}/metrics.json")
        split = " ".join(f"{splits}/{s}.json" for s in names)
        out = f"results/{project}/compare/{method}-{{split}}"
        flags = ("--test-only", "--steps", str(comparison["steps"]))
        stages[f"compare-{method}"] = run(
            f"compare-{method}", method, split, out, *flags, outs=outs, metrics=metrics
        )
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
        "vars": [f"../../{PARAMS}:budget", PARAMS],
        "stages": stages if stages is not None else project_stages(repo, project),
    }
    text = yaml.safe_dump(body, sort_keys=False, width=100)
    return HEADER.format(params=f"projects/{project}/{PARAMS}") + text


def _path(item: str | dict) -> str:
    """The path of a ``deps``/``outs``/``metrics`` item (``path`` or ``{path: options}``)."""
    return item if isinstance(item, str) else next(iter(item))


def root_pipeline(repo: Path, stages: dict[str, dict] | None = None) -> str:
    """The root ``dvc.yaml``: ``summary``, after every project's ``stages`` (if computed)."""
    repo = Path(repo).resolve()
    if stages is None:
        stages = {p: project_stages(repo, p) for p in project_names(repo)}
    deps = []
    for pipeline in stages.values():
        for name, stage in pipeline.items():
            if name == "compare-report":
                deps += [_path(o) for o in stage["outs"]]
            elif not name.startswith("compare-"):  # comparison runs: through compare-report
                deps += [_path(m) for m in stage.get("metrics", [])]
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
    return {**files, repo / PIPELINE: root_pipeline(repo, stages)}


def merged_config(project: str, configs: Path, method: str, budget: str) -> dict:
    """The experiment ``train fit`` runs for ``method`` under ``budget``, merged (what
    ``--print_config`` shows), without the data root (set per machine)."""
    from ssl_core.cli import FitOnlyCLI, cli
    from ssl_core.pipeline import train_args

    common = train_args(method, budget, Path(configs), "DATA_ROOT", None)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
        cli(["--project", project, "fit", *common, "--print_config"], FitOnlyCLI)
    merged = yaml.safe_load(printed.getvalue())
    if not isinstance(merged, dict):
        raise StagesError(f"`train fit --print_config` of {method} ({budget}) printed no config")
    merged.get("data", {}).get("init_args", {}).pop("root", None)
    return merged


def experiments(repo: Path, project: str) -> str:
    """The text of ``projects/<project>/experiments.json`` (docs/pipelines.md). The merges
    run in one forked process per core (they touch no tensor, so forking is safe)."""
    configs = Path("projects", project, "configs")
    with contextlib.chdir(repo):  # the stage's working folder: paths as the stages give them
        runs = [
            (project, configs, method, budget)
            for method in recipe_methods(configs)
            for budget in BUDGETS
            if budget != "smoke" or (configs / "smoke.yaml").is_file()
        ]
        from ssl_core.threads import usable_cores  # affinity and cgroup quota; imports torch

        workers = max(1, min(usable_cores(), 4, len(runs)))
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=fork) as pool:
            configs_merged = list(pool.map(merged_config, *zip(*runs, strict=True), chunksize=4))
    merged: dict[str, dict] = {}
    for (_, _, method, budget), config in zip(runs, configs_merged, strict=True):
        merged.setdefault(method, {})[budget] = config
    return json.dumps(merged, indent=1, allow_nan=False) + "\n"


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ssl_core.stages", description=__doc__.split("\n\n")[0]
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
    stale = [path for path, text in files.items() if not path.is_file() or path.read_text() != text]
    for path in stale:
        if ns.check:
            print(f"out of date: {path.relative_to(repo)}", file=sys.stderr)
        else:
            path.write_text(files[path])
            print(f"wrote {path.relative_to(repo)}")
    if ns.check and stale:
        print(
            "run `uv run python -m ssl_core.stages` (and --experiments P) to update",
            file=sys.stderr,
        )
    raise SystemExit(1 if ns.check and stale else 0)


if __name__ == "__main__":
    main()
