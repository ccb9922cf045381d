"""The DVC pipeline (``projects/imagenette/dvc.yaml``, written from its ``params.yaml``,
and the root ``dvc.yaml``/``params.yaml``) and its imagenette stages.

Fast tests call the stage modules in-process. The pipeline tests copy the repository into
a temporary folder, keep imagenette's pipeline alone (the other projects' ``params.yaml``
and ``dvc.yaml`` removed), point its ``source`` at a fake Imagenette in the real layout (a
path relative to the copy's root, as a team would write it), write its pipeline anew
(``python -m ssl_core.stages``), set ``budget: smoke`` and run ``dvc repro`` there: the
stages' ``uv run --no-sync`` reuses this venv (``UV_PROJECT_ENVIRONMENT``), so nothing is
installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import imagenette.dataset
from imagenette.datamodule import ImagenetteDataModule
from imagenette.fake import make_fake_imagenette
from ssl_core.acquire import main as ssl_acquire_main
from ssl_core.results import collect
from ssl_core.splits import LabelSplit, SplitMismatchError, fingerprint, split_name
from ssl_core.splits import main as ssl_splits_main

from .conftest import REPO_ROOT

ROOT_PARAMS = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
PROJECT = REPO_ROOT / "projects" / "imagenette"
PARAMS = yaml.safe_load((PROJECT / "params.yaml").read_text())
CONFIGS = PROJECT / "configs"
PIPELINE = "projects/imagenette/dvc.yaml"


def stage(name: str) -> str:
    """A stage of imagenette's pipeline as ``dvc`` names it."""
    return f"{PIPELINE}:{name}"


def acquire_main(args: list[str]) -> None:
    """The data stage's command for this project."""
    ssl_acquire_main(["--project", "imagenette", *args])


def splits_main(args: list[str]) -> None:
    """The splits stage's command for this project."""
    ssl_splits_main(["--project", "imagenette", *args])


def project_params() -> dict[str, dict]:
    """Every project's ``params.yaml``: project -> entries."""
    return {
        path.parent.name: yaml.safe_load(path.read_text())
        for path in sorted((REPO_ROOT / "projects").glob("*/params.yaml"))
    }


def split_names(splits: dict) -> set[str]:
    """The label splits a project's splits stage writes."""
    seeds = splits["seeds"]
    names = {split_name(f, s) for f in splits.get("fractions", []) for s in seeds}
    return names | {split_name(0.0, s, count=c) for c in splits.get("counts", []) for s in seeds}


# ----------------------------------------------------------------- pipeline files
def test_params_has_the_pipeline_knobs():
    assert set(ROOT_PARAMS) == {"budget"}  # the one knob; the entries are the projects'
    assert ROOT_PARAMS["budget"] in ("full", "cpu", "smoke")
    assert isinstance(PARAMS["source"], str)
    assert (CONFIGS / "smoke.yaml").is_file()  # the project's own smoke settings
    assert PARAMS["pairs"], "no training stage"
    assert "imagenette" in project_params()
    for project, entries in project_params().items():
        configs = REPO_ROOT / "projects" / project / "configs"
        splits = split_names(entries["splits"])
        pairs = entries.get("pairs") or {}
        baseline = entries.get("random_init")
        runs = [(p.get("method", key), p["split"]) for key, p in pairs.items()]
        runs += [(baseline["baseline"], baseline["split"])] if baseline else []
        for method, split in runs:  # each stage declares both configs of its method
            assert (configs / f"{method}.yaml").is_file(), (project, method)
            assert (configs / f"{method}-cpu.yaml").is_file(), (project, method)
            assert split in splits, (project, method, split)  # the splits stage writes it
        for key, pair in pairs.items():  # fine-tunes a pair that exists
            assert pair.get("from") in (None, *pairs) and pair.get("from") != key, (project, key)
    assert PARAMS["pairs"]["finetune"]["from"] in PARAMS["pairs"]


def test_the_committed_pipelines_are_current():
    """Every ``dvc.yaml`` is what ``python -m ssl_core.stages`` writes from the
    ``params.yaml`` files and the sources today."""
    done = subprocess.run(
        [sys.executable, "-m", "ssl_core.stages", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_dvc_stage_list_shows_every_projects_stages():
    done = subprocess.run(
        [sys.executable, "-m", "dvc", "stage", "list", "--all", "--name-only"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    stages = done.stdout.split()
    expected = ["summary"]  # the root dvc.yaml's
    for project, entries in project_params().items():
        names = ["data", "splits", "experiments"]
        names += ["random-init"] if entries.get("random_init") else []
        names += list(entries.get("pairs") or {})
        runs = (entries.get("comparison") or {}).get("runs") or {}
        names += [f"compare-{method}" for method in runs] + (["compare-report"] if runs else [])
        expected += [f"projects/{project}/dvc.yaml:{name}" for name in names]
    assert sorted(stages) == sorted(expected)
    for name in ("data", "splits", "random-init", "simclr", "finetune", "compare-report"):
        assert stage(name) in stages


# ----------------------------------------------------------------- data stage
def test_local_source_is_used_in_place(fake_root, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)  # DVC runs stages from the repository root
    source = os.path.relpath(fake_root, repo)
    acquire_main(["--source", source, "--out", "data/imagenette"])
    assert [p.name for p in (repo / "data" / "imagenette").iterdir()] == ["manifest.json"]
    manifest = json.loads((repo / "data" / "imagenette" / "manifest.json").read_text())
    assert manifest["root"] == Path(source).as_posix()
    assert (repo / manifest["root"]).resolve() == fake_root.resolve()
    assert manifest["train_images"] == 60 and manifest["test_images"] == 30
    train = sorted(p.relative_to(fake_root).as_posix() for p in fake_root.glob("train/*/*"))
    test = sorted(p.relative_to(fake_root).as_posix() for p in fake_root.glob("val/*/*"))
    assert manifest["fingerprint"] == fingerprint(train)
    assert manifest["test_fingerprint"] == fingerprint(test)


def test_download_source_checks_the_archive_and_keeps_it_as_output(
    tmp_path, monkeypatch, http_mirror
):
    import hashlib
    import tarfile

    folder, mirror = http_mirror  # a loopback mirror
    make_fake_imagenette(tmp_path / "fake" / "imagenette2-160")
    archive = folder / "imagenette2-160.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "fake" / "imagenette2-160", arcname="imagenette2-160")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    # Imagenette() reads VARIANTS when it is made (by the command, after this patch)
    monkeypatch.setitem(imagenette.dataset.VARIANTS, "160", ("imagenette2-160.tgz", md5))
    monkeypatch.chdir(tmp_path)
    out = Path("repo/data/imagenette")
    download = ["--source", "download", "--variant", "160", "--out", str(out), "--mirror", mirror]
    acquire_main(download)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root"] == "repo/data/imagenette/imagenette2-160"
    assert sorted(p.name for p in out.iterdir()) == ["imagenette2-160", "manifest.json"]
    assert manifest["train_images"] == 60 and manifest["test_images"] == 30
    monkeypatch.setitem(imagenette.dataset.VARIANTS, "160", ("imagenette2-160.tgz", "0" * 32))
    with pytest.raises(SystemExit, match="md5"):
        acquire_main(download)


def test_local_source_without_data_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        SystemExit,
        match=r"(?si)imagenette not found.*source in projects/imagenette/params\.yaml.*dvc pull",
    ):
        acquire_main(["--source", "../no-such-copy", "--out", "data/imagenette"])


# ----------------------------------------------------------------- splits stage
def test_splits_command_writes_named_pinned_splits(fake_root, tmp_path):
    out = tmp_path / "splits"
    out.mkdir()
    (out / "frac0.50-seed9.json").write_text("{}")  # no longer asked for: removed
    splits_main(
        [
            "--root",
            str(fake_root),
            "--out",
            str(out),
            "--fractions",
            "0.1",
            "1.0",
            "--seeds",
            "0",
            "1",
        ]
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frac{f}-seed{s}.json" for f in ("0.10", "1.00") for s in (0, 1)]
    split = LabelSplit.load(out / "frac0.10-seed0.json")
    train_paths = sorted(
        str(p.relative_to(fake_root)) for p in (fake_root / "train").rglob("*.JPEG")
    )
    assert split.fingerprint == fingerprint(train_paths)
    # validation: 10% of the training images, at least one per class; labeled: one per class
    assert len(split.validation) == 10 and len(split.labeled) == 10 and len(split.unlabeled) == 40
    labeled = [p for p, _ in split.labeled]
    parts = [set(labeled), set(split.unlabeled), set(split.validation)]
    assert sum(map(len, parts)) == len(train_paths) and set().union(*parts) == set(train_paths)
    assert {p.split("/")[1] for p in split.validation} == {p.split("/")[1] for p in labeled}
    assert not any(p.startswith("val/") for p in [*split.unlabeled, *split.validation])  # test set


def test_split_from_another_dataset_is_refused(fake_root, tmp_path):
    other = make_fake_imagenette(tmp_path / "other", train_per_class=5, val_per_class=1)
    splits_main(
        [
            "--root",
            str(other),
            "--out",
            str(tmp_path / "splits"),
            "--fractions",
            "0.1",
            "--seeds",
            "0",
        ]
    )
    dm = ImagenetteDataModule(
        root=str(fake_root),
        download=False,
        split=str(tmp_path / "splits" / "frac0.10-seed0.json"),
        num_workers=0,
    )
    with pytest.raises(SplitMismatchError, match="made from another dataset"):
        dm.setup("fit")


# ----------------------------------------------------------------- dvc repro / push / pull
def _copy_repo(dest: Path) -> Path:
    """The repository's files (tracked and untracked, minus ignored and pipeline results)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        if name.startswith(("results/", "dvc_plots/")) or Path(name).name == "dvc.lock":
            continue
        src = REPO_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


class Pipeline:
    """A copy of the repository, and ``dvc`` run in it with this venv."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, "UV_PROJECT_ENVIRONMENT": sys.prefix, "UV_NO_SYNC": "1"}

    def dvc(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dvc", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"dvc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def ran(self, log: str) -> list[str]:
        return re.findall(r"Running stage '([^']+)'", log)


def write_stages(root: Path) -> None:
    """``python -m ssl_core.stages`` in the copy ``root``: its pipelines from its files."""
    done = subprocess.run(
        [sys.executable, "-m", "ssl_core.stages", "--repo", str(root)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"ssl_core.stages failed:\n{done.stdout}\n{done.stderr}"


def make_pipeline(tmp: Path, methods: list[str] | None) -> Pipeline:
    """A copy with imagenette's pipeline alone (the other projects' params.yaml and
    dvc.yaml removed), on fake data, budget smoke; ``methods``: its pairs to keep (None:
    all of them; a pair fine-tuning a kept one is kept) and then two runs of the
    label-fraction comparison (supervised and FixMatch on the baseline's split: two
    methods whose smoke epochs differ in length, which the report must see trained for
    the same steps; None: every run whose split the fake splits have). Its dvc.yaml
    files are written anew from the edited params.yaml."""
    if shutil.which("uv") is None:
        pytest.skip("the stages run through uv, which is not on PATH")
    make_fake_imagenette(tmp / "data" / "imagenette2-160")
    root = _copy_repo(tmp / "repo")
    for other in (root / "projects").glob("*/params.yaml"):
        if other.parent.name != "imagenette":  # no longer a project with a pipeline
            other.unlink()
            (other.parent / "dvc.yaml").unlink()
    (root / "params.yaml").write_text(yaml.safe_dump({"budget": "smoke"}))
    path = root / "projects" / "imagenette" / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["source"] = "../data/imagenette2-160"  # from the repository root
    params["splits"] = {"fractions": [0.1, 1.0], "seeds": [0]}
    fake = split_names(params["splits"])
    runs = {m: [s for s in names if s in fake] for m, names in params["comparison"]["runs"].items()}
    if methods is not None:
        split = params["random_init"]["split"]
        params["pairs"] = {
            key: pair
            for key, pair in params["pairs"].items()
            if key in methods or pair.get("from") in methods
        }
        runs = {m: [s for s in runs[m] if s == split] for m in ("supervised", "fixmatch")}
    params["comparison"]["runs"] = {m: names for m, names in runs.items() if names}
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    write_stages(root)
    return Pipeline(root)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    """One pair that trains in seconds, SimCLR, and the fine-tuning stage that starts
    from its checkpoint."""
    tmp = tmp_path_factory.mktemp("dvc")
    pipeline = make_pipeline(tmp, ["simclr"])
    # experiments.json as committed (the copy's configs are the repository's): recorded, not
    # merged again (~25 s on 2 cores). The config edit below runs the experiments stage, and
    # reruns no other pair only if the committed file was current.
    pipeline.dvc("commit", "--force", stage("experiments"))
    pipeline.first_log = pipeline.dvc("repro")
    return pipeline


PAIRS = [stage("simclr"), stage("finetune")]
OUTS = ["simclr", "finetune"]
COMPARE = [stage("compare-supervised"), stage("compare-fixmatch"), stage("compare-report")]
FIRST = [stage("data"), stage("splits"), stage("random-init")]


@pytest.mark.timeout(1800)
def test_repro_runs_the_dag_then_nothing_then_only_the_changed_pair(pipeline):
    assert sorted(pipeline.ran(pipeline.first_log)) == sorted([*FIRST, *PAIRS, *COMPARE, "summary"])
    assert "up to date" in pipeline.dvc("status")
    shown = pipeline.dvc("metrics", "show")
    for method in OUTS:
        assert f"results/imagenette/{method}/metrics.json" in shown
        out = pipeline.root / "results" / "imagenette" / method
        assert (out / "checkpoints" / "last.ckpt").is_file()
        assert (out / "embeddings" / "test.npz").is_file() and list((out / "plots").glob("*.png"))
        seconds = json.loads((out / "metrics.json").read_text())["seconds"]  # the pair's cost
        assert all(seconds[k] > 0 for k in ("start", "fit", "predict", "evaluate"))
        assert seconds["total"] == pytest.approx(
            sum(seconds[k] for k in ("start", "fit", "predict", "evaluate"))
        )
    # the baseline: the same network untrained, embedded and evaluated the same way
    baseline = pipeline.root / "results" / "imagenette" / "random-init"
    assert "results/imagenette/random-init/metrics.json" in shown
    metrics = json.loads((baseline / "metrics.json").read_text())
    assert metrics["run"]["checkpoint"] is None and "knn_top1" in metrics
    assert "metrics_csv" not in metrics["run"]  # no training log, no training curves
    assert set(metrics["seconds"]) == {"start", "predict", "evaluate", "total"}
    plots = {p.name for p in (baseline / "plots").glob("*.png")}
    assert plots and "training_curves.png" not in plots
    assert not any((baseline / p).exists() for p in ("checkpoints", "train", "curves.csv"))
    assert "random-init baseline" in (baseline / "report.md").read_text()
    # the short view: baselines first, every pair a row
    rows = [r.name for r in collect(pipeline.root / "results" / "imagenette")]
    assert rows == ["random-init", *sorted(OUTS)]
    # the data was used in place: the data stage's output is the manifest alone
    data_out = pipeline.root / "projects" / "imagenette" / "data" / "imagenette"
    assert [p.name for p in data_out.iterdir()] == ["manifest.json"]
    # the comparison's run: the classifier's test top-1 only; its report
    run = pipeline.root / "results" / "imagenette" / "compare" / "supervised-frac0.10-seed0"
    assert "results/imagenette/compare/supervised-frac0.10-seed0/metrics.json" in shown
    assert 0 <= json.loads((run / "metrics.json").read_text())["test_top1"] <= 1
    assert (run / "checkpoints" / "last.ckpt").is_file() and not (run / "embeddings").exists()
    report = pipeline.root / "results" / "imagenette" / "compare.md"
    assert "| supervised | " in report.read_text() and "| fixmatch | " in report.read_text()
    steps = {  # the same budget for both, though supervised's smoke epoch is one batch
        json.loads(p.read_text())["steps"] for p in run.parent.glob("*/metrics.json")
    }
    assert steps == {2}
    assert "| random-init, linear probe | " in report.read_text()  # the no-training baseline
    assert "Missing" not in report.read_text()  # every run the copy's params.yaml asks for
    # the root stage: every project's pairs (here imagenette's alone)
    summary = (pipeline.root / "results" / "summary.md").read_text()
    assert all(f"| {name} |" in summary for name in OUTS)
    assert "| **random-init** |" in summary  # the baseline, set apart

    assert pipeline.ran(pipeline.dvc("repro")) == []

    # an edit to the stage downstream reruns it alone (after the experiments it merges into,
    # and before the summary that reads it), not the pair it starts from
    config = pipeline.root / "projects" / "imagenette" / "configs" / "finetune-cpu.yaml"
    config.write_text(config.read_text().replace("seed_everything: 0", "seed_everything: 1"))
    assert pipeline.ran(pipeline.dvc("repro")) == [
        stage("experiments"),
        stage("finetune"),
        "summary",
    ]
    experiments = pipeline.root / "projects" / "imagenette" / "experiments.json"
    merged = json.loads(experiments.read_text())  # written anew by its stage
    assert merged["finetune"]["smoke"]["seed_everything"] == 1
    assert merged["simclr"]["smoke"]["seed_everything"] == 0
    assert "up to date" in pipeline.dvc("status")


@pytest.mark.timeout(600)
def test_push_wipe_pull_gives_back_identical_splits_and_checkpoints(pipeline, tmp_path):
    root = pipeline.root
    pipeline.dvc("remote", "add", "--local", "-f", "-d", "team", str(tmp_path / "remote"))
    pipeline.dvc("push")
    kept = [root / "projects" / "imagenette" / "splits"] + [
        root / "results" / "imagenette" / m / "checkpoints" for m in OUTS
    ]
    before = {p: p.read_bytes() for d in kept for p in sorted(d.rglob("*")) if p.is_file()}
    assert len(before) >= 2 + len(OUTS)  # the splits, each stage's last.ckpt
    shutil.rmtree(root / ".dvc" / "cache")
    for out in [*kept, root / "projects" / "imagenette" / "data" / "imagenette"]:
        shutil.rmtree(out)
    pipeline.dvc("pull")
    after = {p: p.read_bytes() for d in kept for p in sorted(d.rglob("*")) if p.is_file()}
    assert after == before
    assert "up to date" in pipeline.dvc("status")


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_repro_of_every_method_in_params(tmp_path):
    """The full matrix of imagenette's params.yaml (every pair), smoke budget."""
    pipeline = make_pipeline(tmp_path, None)
    log = pipeline.dvc("repro")
    params = yaml.safe_load((pipeline.root / "projects" / "imagenette" / "params.yaml").read_text())
    assert set(params["pairs"]) == set(PARAMS["pairs"])
    pairs = [stage(key) for key in params["pairs"]]
    runs = [stage(f"compare-{m}") for m in params["comparison"]["runs"]] + [stage("compare-report")]
    ran = [*FIRST, stage("experiments"), *pairs, *runs, "summary"]
    assert sorted(pipeline.ran(log)) == sorted(ran)
    shown = pipeline.dvc("metrics", "show")
    outs = [*params["pairs"], "random-init"]
    assert all(f"results/imagenette/{m}/metrics.json" in shown for m in outs)
