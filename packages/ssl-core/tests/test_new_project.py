"""``new-project``: rendered in-process into a copy of the workspace's root files, then
the generated project's own tests run (a subprocess on this venv, the new package on
PYTHONPATH), and DVC sees its stages without a change to dvc.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ssl_core.new_project import NewProjectError, main, new_project

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


def test_new_project_trains_passes_its_tests_and_joins_the_pipeline(workspace, capsys):
    dvc_yaml = (workspace / "dvc.yaml").read_text()
    main(["demo", "--channels", "1", "--classes", "nucleus", "debris", "--repo", str(workspace)])
    assert "uv run --package demo train fit --config simclr-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "demo"
    assert (project / "src" / "demo" / "dataset.py").read_text().count("FILL IN") == 1
    assert sorted(p.name for p in (project / "example" / "train").iterdir()) == [
        "debris",
        "nucleus",
    ]
    assert '"demo"' in (workspace / "pyproject.toml").read_text()  # uv sync installs it
    assert (workspace / "dvc.yaml").read_text() == dvc_yaml  # stages are never copied
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    stages = subprocess.run(
        [str(BIN / "dvc"), "stage", "list"], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert stages.returncode == 0, stages.stderr
    for stage in ("data@demo", "splits@demo", "random-init@demo", "train@demo-simclr"):
        assert stage in stages.stdout
    if shutil.which("ruff", path=str(BIN)):
        lint = subprocess.run([str(BIN / "ruff"), "check", str(project)], cwd=workspace)
        assert lint.returncode == 0
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", str(project / "tests"), "-q", "-p", "no:cacheprovider"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "3 passed" in tests.stdout


def test_refuses_bad_names_and_existing_projects(workspace):
    with pytest.raises(NewProjectError, match="lowercase"):
        new_project("My-Data", repo=workspace)
    new_project("cells", repo=workspace)
    with pytest.raises(NewProjectError, match="exists already"):
        new_project("cells", repo=workspace)
    with pytest.raises(NewProjectError, match="no workspace root"):
        new_project("other", repo=workspace / "projects")
