"""``ssl_core.stages``: each project's ``dvc.yaml`` written from its ``params.yaml``, stages
that depend on the code they use, and the merged experiments the training stages track."""

from __future__ import annotations

import shutil

import pytest
import yaml

from ssl_core import stages
from ssl_core.project import recipe_methods
from ssl_core.stages import StagesError

from .conftest import REPO_ROOT


def _stages(project: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "projects" / project / "dvc.yaml").read_text())["stages"]


def test_committed_experiments_are_the_merged_configs_of_every_method_and_budget():
    """The snapshot of today's experiments (project x method x budget, as `train fit`
    merges them): a change to a recipe, to what it extends or to a class's defaults shows
    up here, and is committed with the snapshot."""
    for project in stages.project_names(REPO_ROOT):
        path = REPO_ROOT / "projects" / project / stages.EXPERIMENTS
        merged = stages.experiments(REPO_ROOT, project)
        assert path.is_file() and path.read_text() == merged, (
            f"{path} is out of date: `uv run python -m ssl_core.stages --experiments {project}`"
        )
        snapshot = yaml.safe_load(merged)
        for method in recipe_methods(path.parent / "configs"):
            assert set(snapshot[method]) == {"full", "cpu", "smoke"}, method
            assert snapshot[method]["cpu"]["trainer"]["accelerator"] == "cpu"


def test_a_stage_depends_on_the_code_it_imports_and_nothing_else():
    imagenette, vowels = _stages("imagenette"), _stages("vowels")
    simclr = set(imagenette["simclr"]["deps"])
    assert "packages/ssl-core/src/ssl_core/methods/simclr.py" in simclr
    assert "projects/imagenette/src/imagenette/dataset.py" in simclr
    assert "packages/ssl-core/src/ssl_core/evaluate/run.py" in simclr  # it evaluates
    assert not any("methods/byol.py" in d or "methods/fixmatch.py" in d for d in simclr)
    assert not any(d.startswith("projects/vowels") for d in simclr)
    fixmatch = set(vowels["fixmatch"]["deps"])
    assert "packages/ssl-core/src/ssl_core/methods/fixmatch.py" in fixmatch
    assert "packages/ssl-core/src/ssl_core/series/ts.py" in fixmatch
    # named by a string that the evaluate loop imports ("module:Class")
    assert "packages/ssl-core/src/ssl_core/series/minirocket.py" in set(
        vowels["random-init"]["deps"]
    )
    assert not any(d.startswith("packages/ssl-core/src/ssl_core/points") for d in fixmatch)


def test_params_are_the_budget_and_the_stages_own_experiment():
    simclr = _stages("imagenette")["simclr"]
    assert simclr["params"] == [
        {"params.yaml": ["budget"]},
        {"projects/imagenette/experiments.json": ["simclr.${budget}"]},
    ]
    assert "--budget ${budget}" in simclr["cmd"] and simclr["wdir"] == "../.."
    finetune = _stages("imagenette")["finetune"]
    assert finetune["deps"][0] == "results/imagenette/simclr/checkpoints"
    assert "results/imagenette/simclr/checkpoints/last.ckpt" in finetune["cmd"]


def test_a_source_used_in_place_is_a_dependency_of_the_data_stage():
    """An edit of data read in place (a file replaced in ../shared/data) reruns the data
    stage: DVC hashes the folder's content, not only its path."""
    jets = _stages("jets")["data"]
    assert "${source}" in jets["deps"]  # ../shared/data/jets-pythia8-top-qcd, as params says
    assert not any("shared" in d for d in _stages("gwak")["data"]["deps"])  # generated


def test_one_comparison_stage_per_method_runs_all_its_splits():
    entries = yaml.safe_load((REPO_ROOT / "projects/imagenette/params.yaml").read_text())
    runs = entries["comparison"]["runs"]
    pipeline = _stages("imagenette")
    for method, splits in runs.items():
        stage = pipeline[f"compare-{method}"]
        assert f"--steps {entries['comparison']['steps']} " in stage["cmd"]
        for split in splits:
            assert f"projects/imagenette/splits/{split}.json" in stage["cmd"]
            assert {
                f"results/imagenette/compare/{method}-{split}/metrics.json": {"cache": False}
            } in stage["metrics"]
    report = pipeline["compare-report"]
    assert "results/imagenette/random-init/metrics.json" in report["deps"]
    assert len([d for d in report["deps"] if "/compare/" in d]) == sum(map(len, runs.values()))


def test_root_summary_pulls_in_every_project():
    root = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    assert list(root) == ["summary"]
    deps = root["summary"]["deps"]
    for project in stages.project_names(REPO_ROOT):
        assert f"results/{project}/random-init/metrics.json" in deps


def _project_copy(tmp_path, entries: dict):
    """A workspace with one project (vowels' code and configs), its params replaced."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    shutil.copytree(
        REPO_ROOT / "packages", tmp_path / "packages", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(REPO_ROOT / "projects" / "vowels" / "src", tmp_path / "projects/vowels/src")
    shutil.copytree(
        REPO_ROOT / "projects" / "vowels" / "configs", tmp_path / "projects/vowels/configs"
    )
    (tmp_path / "projects/vowels/params.yaml").write_text(yaml.safe_dump(entries))
    return tmp_path


def test_entries_that_make_no_pipeline_are_refused_with_the_reason(tmp_path):
    base = {"source": "generate", "variant": "", "splits": {"fractions": [0.5], "seeds": [0]}}
    cases = [
        ({"pairs": {"simclr": {}}}, "pair 'simclr' needs a `split`"),
        ({"pairs": {"simclr": {"split": "a", "epochs": 3}}}, r"not \['epochs'\]"),
        ({"pairs": {"ft": {"split": "a", "from": "simclr"}}}, "starts from 'simclr', no pair"),
        ({"pairs": {"data": {"method": "simclr", "split": "a"}}}, "may not be named 'data'"),
        (
            {"pairs": {"nope": {"split": "a"}}},
            "runs 'nope', which has no nope.yaml and nope-cpu.yaml",
        ),
        ({"comparison": {"steps": 3, "runs": {"supervised": ["a"]}}}, "needs `random_init`"),
    ]
    repo = _project_copy(tmp_path, base)
    params = repo / "projects/vowels/params.yaml"
    for extra, message in cases:
        params.write_text(yaml.safe_dump({**base, **extra}))
        with pytest.raises(StagesError, match=message):
            stages.project_pipeline(repo, "vowels")
    params.write_text(yaml.safe_dump({"splits": base["splits"]}))
    with pytest.raises(StagesError, match="has no `source`"):
        stages.project_pipeline(repo, "vowels")


def test_check_says_which_file_is_out_of_date(tmp_path, capsys):
    repo = _project_copy(tmp_path, {
        "source": "generate", "variant": "", "splits": {"fractions": [0.5], "seeds": [0]},
        "pairs": {"simclr": {"split": "frac0.50-seed0"}},
    })  # fmt: skip
    with pytest.raises(SystemExit) as done:
        stages.main(["--repo", str(repo)])
    assert done.value.code == 0 and (repo / "projects/vowels/dvc.yaml").is_file()
    with pytest.raises(SystemExit) as done:
        stages.main(["--repo", str(repo), "--check"])
    assert done.value.code == 0
    (repo / "projects/vowels/params.yaml").write_text(
        (repo / "projects/vowels/params.yaml").read_text().replace("0.5", "0.25")
    )
    with pytest.raises(SystemExit) as done:
        stages.main(["--repo", str(repo), "--check"])
    assert done.value.code == 1
    assert "out of date: projects/vowels/dvc.yaml" in capsys.readouterr().err
