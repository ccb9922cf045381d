"""``new-project --task segmentation``: a 1-channel project rendered into a copy of the
workspace's root files; its own tests run (dataset, batches, a `train` step) and DVC
sees its four pairs without a change to dvc.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ssl_core.new_project import main

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


@pytest.fixture
def workspace(tmp_path) -> Path:
    for name in ("pyproject.toml", "params.yaml", "dvc.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(
        REPO_ROOT / ".dvc", tmp_path / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache")
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def test_segmentation_project_trains_passes_its_tests_and_joins_the_pipeline(workspace, capsys):
    dvc_yaml = (workspace / "dvc.yaml").read_text()
    main(["seg1", "--task", "segmentation", "--channels", "1", "--repo", str(workspace)])
    assert "train fit --config supervised-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "seg1"
    assert (project / "src" / "seg1" / "dataset.py").read_text().count("FILL IN") == 1
    example = project / "example" / "train"
    assert (
        len(list((example / "images").glob("*.png")))
        == len(list((example / "masks").glob("*.png")))
        == 16
    )
    configs = {p.stem for p in (project / "configs").glob("*.yaml")}
    for method in ("supervised", "fixmatch", "meanteacher", "unimatch"):
        assert {method, f"{method}-cpu"} <= configs
        text = (project / "configs" / f"{method}-cpu.yaml").read_text()
        assert text.startswith("# extends: trainer-cpu.yaml") and "in_channels: 1" in text
    assert (workspace / "dvc.yaml").read_text() == dvc_yaml
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    stages = subprocess.run(
        [str(BIN / "dvc"), "stage", "list"], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert stages.returncode == 0, stages.stderr
    for method in ("supervised", "fixmatch", "meanteacher", "unimatch"):
        assert f"segment@seg1-{method}" in stages.stdout
    if shutil.which("ruff", path=str(BIN)):
        assert (
            subprocess.run([str(BIN / "ruff"), "check", str(project)], cwd=workspace).returncode
            == 0
        )
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", str(project / "tests"), "-q", "-p", "no:cacheprovider"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "3 passed" in tests.stdout
