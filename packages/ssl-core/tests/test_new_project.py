"""``new-project``: rendered in-process into a copy of the workspace's root files, then
the generated project's own tests run (a subprocess on this venv, the new package on
PYTHONPATH), and DVC sees its own pipeline, written beside it."""

from __future__ import annotations

import pytest

from ssl_core.new_project import NewProjectError, main, new_project


def test_new_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project, monkeypatch
):
    params = (workspace / "params.yaml").read_text()
    monkeypatch.chdir(workspace)  # --repo as a user gives it: relative
    main(["demo", "--channels", "1", "--classes", "nucleus", "debris", "--repo", "."])
    assert "uv run --package demo train fit --config simclr-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "demo"
    assert (project / "src" / "demo" / "dataset.py").read_text().count("FILL IN") == 1
    assert sorted(p.name for p in (project / "example" / "train").iterdir()) == [
        "debris",
        "nucleus",
    ]
    assert len(list((project / "example" / "unlabeled").glob("*.png"))) == 20  # no class
    assert '"demo"' in (workspace / "pyproject.toml").read_text()  # uv sync installs it
    assert (workspace / "params.yaml").read_text() == params  # the budget only
    assert "results/demo/simclr/metrics.json" in (workspace / "dvc.yaml").read_text()  # summary
    # its tests: dataset, batches, and one step of SimCLR, FixMatch and SupCon, ssl-core's
    # recipes on its data (configs/data-cpu.yaml) and network (model.yaml): no file added
    assert not (project / "configs" / "fixmatch-cpu.yaml").exists()
    stages = check_new_project(workspace, project, passed=5)
    for stage in ("data", "splits", "experiments", "random-init", "simclr", "supervised"):
        assert f"projects/demo/dvc.yaml:{stage} " in stages


def test_refuses_bad_names_and_existing_projects(workspace):
    with pytest.raises(NewProjectError, match="lowercase"):
        new_project("My-Data", repo=workspace)
    new_project("cells", repo=workspace)
    with pytest.raises(NewProjectError, match="exists already"):
        new_project("cells", repo=workspace)
    with pytest.raises(NewProjectError, match="no workspace root"):
        new_project("other", repo=workspace / "projects")
