"""Fixtures of ssl-core's own tests: a fake class-folder dataset made with ssl-core's
writer and a tiny config of the generic datamodule (no project package is imported)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ssl_core.data.fake import make_fake_image_folder
from ssl_core.testing import http_mirror, isolated_split_cache, one_torch_thread  # noqa: F401

TESTS_DIR = Path(__file__).resolve().parent
TINY_CONFIG = TESTS_DIR / "configs" / "tiny.yaml"
CLASSES = ("ant", "bee", "cat", "dog", "eel")


@pytest.fixture(scope="session")
def fake_root(tmp_path_factory) -> Path:
    """5 classes, 12 train / 3 test images each (mixed sizes, some grey). Read only."""
    root = tmp_path_factory.mktemp("fake") / "folders"
    return make_fake_image_folder(root, CLASSES, {"train": 12, "test": 3}, size=40)


@pytest.fixture
def tiny_args():
    """``tiny_args(root, run_dir, *extra)``: ``train fit`` arguments of the tiny config
    (any method via ``--model CLASS``)."""
    return _tiny_args


def _tiny_args(root: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--config",
        str(TINY_CONFIG),
        "--data.root",
        str(root),
        "--trainer.default_root_dir",
        str(run_dir),
        *extra,
    ]


# ------------------------------------------------------------------ new-project
REPO_ROOT = TESTS_DIR.parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A copy of the workspace's root files (pyproject, params, dvc.yaml, .dvc) in a new
    git repository: where ``new-project`` renders in the tests."""
    for name in ("pyproject.toml", "params.yaml", "dvc.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(
        REPO_ROOT / ".dvc", tmp_path / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache")
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


@pytest.fixture
def check_new_project():
    """``check_new_project(workspace, project)``: see :func:`_check_new_project`."""
    return _check_new_project


def _check_new_project(workspace: Path, project: Path, passed: int = 3) -> str:
    """Run a rendered project's checks on this venv (its package on ``PYTHONPATH``): ``dvc
    stage list --all`` (returned), ruff when installed, and the project's own tests (``passed``
    pass)."""
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    stages = subprocess.run(
        [str(BIN / "dvc"), "stage", "list", "--all"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    assert stages.returncode == 0, stages.stderr
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
    assert f"{passed} passed" in tests.stdout
    return stages.stdout
