"""``new-project --modality points``: a jets project whose tests pass and whose stages DVC
lists; the modality's template and example come from one entry of ``MODALITIES``."""

from __future__ import annotations

import numpy as np
import pytest

from ssl_core.new_project import MODALITIES, NewProjectError, main, new_project


def test_points_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project
):
    main(["toyjets", "--task", "classification", "--modality", "points", "--repo", str(workspace)])
    assert "train fit --config simclr-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "toyjets"
    with np.load(project / "example" / "top.npz") as data:  # the real files' arrays
        assert {"constituents", "n_constituents", "jet", "label"} <= set(data.files)
        assert data["constituents"].shape[2] == 4 and (data["label"] == 1).all()
    assert (project / "configs" / "fixmatch-cpu.yaml").is_file()
    assert "ssl_core.points" in (project / "configs" / "simclr-cpu.yaml").read_text()
    stages = check_new_project(workspace, project, passed=5)
    for stage in ("data@toyjets", "splits@toyjets", "train@toyjets-simclr"):
        assert stage in stages


def test_unknown_modality_or_missing_template_is_refused(workspace):
    assert set(MODALITIES) >= {"image", "points"}
    with pytest.raises(NewProjectError, match="modality must be one of"):
        new_project("sounds", repo=workspace, modality="audio")
    with pytest.raises(NewProjectError, match="no segmentation template for points"):
        new_project("jetmasks", task="segmentation", repo=workspace, modality="points")
