"""Which project does `train` run, with TWO project packages installed.

A second project distribution (``otherproj``) is written to ``tmp_path`` with its
``dist-info`` (entry point group ``ssl_core.projects``) and put on ``sys.path``, so that
``importlib.metadata`` sees it next to the workspace's ``imagenette``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from ssl_core.project import (
    ENTRY_POINT_GROUP,
    RECIPES,
    BrokenProjectError,
    Project,
    ProjectResolutionError,
    installed_projects,
    resolve_project,
    uv_package_from_argv,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
TRAIN = Path(sys.executable).parent / "train"


def write_other_project(site: Path) -> Path:
    """Install-like layout of a project ``otherproj`` under ``site``; returns its root."""
    root = install(
        site,
        "otherproj",
        "from pathlib import Path\n"
        "from ssl_core.project import Project\n"
        "PROJECT = Project(name='otherproj', root=Path(__file__).resolve().parent)\n",
    )
    # Its default config differs from imagenette's in max_epochs (7 vs 200): ssl-core's
    # SimCLR recipe, edited, on imagenette's data and network (as net.yaml: no model.yaml,
    # so ssl-core's recipes are not its own and its default stays this GPU recipe)
    (root / "configs" / "simclr.yaml").write_text(
        (RECIPES / "classification" / "simclr.yaml")
        .read_text()
        .replace("max_epochs: 200", "max_epochs: 7")
        .replace("# then: model.yaml", "# then: net.yaml")
    )
    shutil.copy(REPO_ROOT / "projects/imagenette/configs/data.yaml", root / "configs")
    shutil.copy(REPO_ROOT / "projects/imagenette/configs/model.yaml", root / "configs/net.yaml")
    return root


def install(site: Path, name: str, init: str) -> Path:
    """Package ``name`` in ``site`` (``__init__.py`` = ``init``, an empty ``configs/``),
    installed as a project: its ``ssl_core.projects`` entry point ``name:PROJECT``."""
    root = site / name
    (root / "configs").mkdir(parents=True)
    (root / "__init__.py").write_text(init)
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ssl_core.projects]\n{name} = {name}:PROJECT\n")
    return root


@pytest.fixture
def other_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("SSL_PROJECT", raising=False)
    site = tmp_path / "site"
    root = write_other_project(site)
    monkeypatch.syspath_prepend(str(site))
    yield root
    sys.modules.pop("otherproj", None)


def write_broken_project(site: Path) -> Path:
    """A third installed project, ``brokenproj``, whose ``dataset.py`` has a syntax
    error; importing its package first touches ``imported`` beside it."""
    root = install(
        site,
        "brokenproj",
        "from pathlib import Path\n"
        "(Path(__file__).parent / 'imported').touch()\n"
        "from brokenproj.dataset import Broken\n",
    )
    (root / "dataset.py").write_text("class Broken:\n    def read(self)\n        pass\n")
    return root


@pytest.fixture
def broken_root(other_root) -> Path:
    """``brokenproj`` installed beside ``otherproj`` and the workspace's projects."""
    yield write_broken_project(other_root.parent)
    for name in ("brokenproj", "brokenproj.dataset"):
        sys.modules.pop(name, None)


@pytest.fixture
def neutral_dir(tmp_path) -> Path:
    """A directory inside no project."""
    (tmp_path / "elsewhere").mkdir()
    return tmp_path / "elsewhere"


def test_both_projects_are_installed(other_root):
    projects = installed_projects()
    assert set(projects) >= {"imagenette", "otherproj"}
    assert projects["otherproj"].root == other_root
    assert projects["imagenette"].config() == REPO_ROOT / "projects/imagenette/configs/simclr.yaml"


def test_explicit_name(other_root, neutral_dir, monkeypatch):
    assert resolve_project("otherproj", cwd=neutral_dir, invoking_argv=[]).name == "otherproj"
    assert resolve_project("imagenette", cwd=other_root, invoking_argv=[]).name == "imagenette"
    monkeypatch.setenv("SSL_PROJECT", "otherproj")
    assert resolve_project(cwd=neutral_dir, invoking_argv=[]).name == "otherproj"
    with pytest.raises(ProjectResolutionError, match="'nope', which is no project") as err:
        resolve_project("nope", cwd=neutral_dir, invoking_argv=[])
    assert "imagenette" in str(err.value) and "otherproj" in str(err.value)  # the listing


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["uv", "run", "--package", "otherproj", "train"], "otherproj"),
        (
            ["/usr/local/bin/uv", "run", "--frozen", "--package=imagenette", "train", "fit"],
            "imagenette",
        ),
        (["uv", "run", "--package", "imagenette", "--", "train"], "imagenette"),
    ],
)
def test_invoking_uv_package_wins_over_cwd(other_root, argv, expected):
    cwd = other_root if expected == "imagenette" else REPO_ROOT / "projects/imagenette/src"
    assert resolve_project(cwd=cwd, invoking_argv=argv).name == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["python", "-m", "pytest"],
        ["uvicorn", "run", "--package", "otherproj"],  # not uv
        ["uv", "run", "train"],  # no --package
        ["uv", "run", "--", "train", "--package", "otherproj"],  # after "--": train's own
    ],
)
def test_argv_without_uv_package(argv):
    assert uv_package_from_argv(argv) is None


def test_cwd_inside_a_project(other_root, monkeypatch):
    assert resolve_project(cwd=other_root / "configs", invoking_argv=["bash"]).name == "otherproj"
    imagenette_dir = REPO_ROOT / "projects/imagenette/src/imagenette"
    assert resolve_project(cwd=imagenette_dir, invoking_argv=["bash"]).name == "imagenette"
    # The real parent process (pytest's) names no package: cwd decides.
    monkeypatch.chdir(other_root)
    assert resolve_project().name == "otherproj"


def test_ambiguity_lists_both_projects(other_root, neutral_dir):
    with pytest.raises(ProjectResolutionError, match="Which project") as err:
        resolve_project(cwd=neutral_dir, invoking_argv=["bash"])
    listed = str(err.value).split("Installed projects: ")[1].split(".")[0].split(", ")
    assert {"imagenette", "otherproj"} <= set(listed) and listed == sorted(listed)
    assert "--package NAME" in str(err.value) and "--project NAME" in str(err.value)


def test_single_project_and_none():
    only = Project(name="solo", root=Path("/nonexistent/solo"))
    assert resolve_project(projects={"solo": only}, cwd=Path("/"), invoking_argv=[]) is only
    with pytest.raises(ProjectResolutionError, match="No ssl-core project"):
        resolve_project(projects={}, cwd=Path("/"), invoking_argv=[])


def test_a_broken_project_never_stops_another(broken_root, other_root, neutral_dir):
    said = []
    found = resolve_project("otherproj", cwd=neutral_dir, invoking_argv=[], say=said.append)
    assert found.name == "otherproj"
    by_cwd = resolve_project(cwd=other_root / "configs", invoking_argv=["bash"], say=said.append)
    assert by_cwd.name == "otherproj"
    argv = ["uv", "run", "--package", "otherproj", "train"]
    assert resolve_project(cwd=neutral_dir, invoking_argv=argv).name == "otherproj"
    assert not (broken_root / "imported").exists() and not said  # never even imported
    with pytest.raises(ProjectResolutionError, match="Which project") as err:
        resolve_project(cwd=neutral_dir, invoking_argv=["bash"])
    assert "brokenproj" in str(err.value)  # listed by name, not imported
    assert not (broken_root / "imported").exists()


def test_the_broken_project_asked_for_is_one_line_naming_its_file(broken_root, neutral_dir):
    with pytest.raises(BrokenProjectError) as err:
        resolve_project("brokenproj", cwd=neutral_dir, invoking_argv=[])
    assert str(err.value) == (
        f"Project brokenproj cannot be imported ({broken_root / 'dataset.py'}:2: SyntaxError: "
        "expected ':'): fix it, or run another project with `train --project NAME`"
    )
    with pytest.raises(BrokenProjectError, match="dataset.py:2: SyntaxError"):
        resolve_project(cwd=broken_root / "configs", invoking_argv=["bash"])  # its folder
    said = []
    assert "otherproj" in installed_projects(say=said.append)  # the others are listed
    assert len(said) == 1 and said[0].startswith("left out: Project brokenproj cannot be")


def test_an_entry_point_that_is_no_project_is_one_line():
    odd = EntryPoint(name="odd", value="os:sep", group=ENTRY_POINT_GROUP)
    with pytest.raises(BrokenProjectError, match="its entry point os:sep is a str, not an ssl"):
        resolve_project("odd", projects={"odd": odd}, cwd=Path("/"), invoking_argv=[])


def test_train_runs_a_project_beside_a_broken_one(broken_root, neutral_dir, monkeypatch, capsys):
    from ssl_core.cli import cli

    monkeypatch.chdir(neutral_dir)
    with pytest.raises(SystemExit) as done:
        cli(["--project", "otherproj", "--print_config"])
    assert done.value.code in (None, 0) and "max_epochs: 7" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        cli(["--project", "brokenproj", "fit"])
    assert str(stopped.value).startswith("train: Project brokenproj cannot be imported (")
    assert f"{broken_root / 'dataset.py'}:2: SyntaxError" in str(stopped.value)


def test_config_by_name(other_root):
    project = installed_projects()["imagenette"]
    assert project.config("simclr-cpu") == project.config("simclr-cpu.yaml")
    with pytest.raises(FileNotFoundError, match="simclr-cpu.yaml"):
        project.config("nope")


def test_missing_config_folder_says_how_to_install(tmp_path):
    # a project wheel installed outside the workspace has no configs/ beside its code
    project = Project(name="elsewhere", root=tmp_path / "site")
    with pytest.raises(FileNotFoundError, match="does not exist.*uv sync.*--config PATH"):
        project.config("simclr")


# ------------------------------------------------------------ real processes
def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SSL_PROJECT"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


# Each of these starts a fresh `train` (imports torch + Lightning): ~15 s on an idle
# 2-core machine, over a minute when it is shared, hence opt-in (-m slow).
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_real_uv_run_package_picks_imagenette(other_root):
    out = subprocess.run(
        [
            "uv",
            "run",
            "--frozen",
            "--no-sync",
            "--package",
            "imagenette",
            "train",
            "--config",
            "simclr",  # by name: imagenette's (without it a CPU machine picks simclr-cpu)
            "--print_config",
        ],
        cwd=REPO_ROOT,
        env=_env(other_root.parent),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "max_epochs: 200" in out.stdout  # imagenette's configs/simclr.yaml
    assert "class_path: imagenette.ImagenetteDataModule" in out.stdout


@pytest.mark.slow
def test_parent_process_named_uv_picks_otherproj(other_root, tmp_path):
    assert TRAIN.is_file(), f"no train script next to {sys.executable}"
    wrapper = tmp_path / "bin" / "uv"
    wrapper.parent.mkdir()
    wrapper.write_text(
        textwrap.dedent(f"""\
        import subprocess, sys
        sys.exit(subprocess.run([{str(TRAIN)!r}, "--print_config"]).returncode)
    """)
    )
    out = subprocess.run(
        [sys.executable, str(wrapper), "run", "--package", "otherproj"],
        cwd=REPO_ROOT,
        env=_env(other_root.parent),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "max_epochs: 7" in out.stdout  # otherproj's default config
