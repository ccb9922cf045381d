"""``new-project``: rendered in-process into a copy of the workspace's root files, then
the generated project's own tests run (a subprocess on this venv, the new package on
PYTHONPATH), and DVC sees its stages without a change to dvc.yaml."""

from __future__ import annotations

import pytest

from ssl_core.new_project import NewProjectError, main, new_project


def test_new_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project
):
    dvc_yaml = (workspace / "dvc.yaml").read_text()
    main(["demo", "--channels", "1", "--classes", "nucleus", "debris", "--repo", str(workspace)])
    assert "uv run --package demo train fit --config simclr-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "demo"
    assert (project / "src" / "demo" / "dataset.py").read_text().count("FILL IN") == 1
    assert sorted(p.name for p in (project / "example" / "train").iterdir()) == [
        "debris",
        "nucleus",
    ]
    assert len(list((project / "example" / "unlabeled").glob("*.png"))) == 20  # no class
    assert '"demo"' in (workspace / "pyproject.toml").read_text()  # uv sync installs it
    assert (workspace / "dvc.yaml").read_text() == dvc_yaml  # stages are never copied
    stages = check_new_project(workspace, project)
    for stage in ("data@demo", "splits@demo", "random-init@demo", "train@demo-simclr"):
        assert stage in stages


def test_refuses_bad_names_and_existing_projects(workspace):
    with pytest.raises(NewProjectError, match="lowercase"):
        new_project("My-Data", repo=workspace)
    new_project("cells", repo=workspace)
    with pytest.raises(NewProjectError, match="exists already"):
        new_project("cells", repo=workspace)
    with pytest.raises(NewProjectError, match="no workspace root"):
        new_project("other", repo=workspace / "projects")
