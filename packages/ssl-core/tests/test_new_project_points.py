"""``new-project --modality points``: a jets project whose tests pass and whose stages DVC
lists; the modality's template and example come from one entry of ``MODALITIES``. Its
files, classes and signal class are options: the example, the fake data and the
project's own tests follow them."""

from __future__ import annotations

import numpy as np
import pytest

from ssl_core.new_project import MODALITIES, NewProjectError, main, new_project


def test_points_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project
):
    args = ["wjets", "--modality", "points", "--files", "wprime.npz", "qcd.npz"]
    main(
        [*args, "--classes", "qcd", "wprime", "--signal-class", "wprime", "--repo", str(workspace)]
    )
    out = capsys.readouterr().out
    assert "train fit --config simclr-cpu" in out and "at the folder of wprime.npz qcd.npz;" in out
    project = workspace / "projects" / "wjets"
    for name, label in (("wprime.npz", 1), ("qcd.npz", 0)):
        with np.load(project / "example" / name) as data:  # the real files' arrays
            assert {"constituents", "n_constituents", "jet", "label"} <= set(data.files)
            assert data["constituents"].shape[2] == 4 and (data["label"] == label).all()
    dataset = (project / "src" / "wjets" / "dataset.py").read_text()
    assert 'FILES = ("wprime.npz", "qcd.npz")' in dataset and 'SIGNAL = "wprime"' in dataset
    assert (project / "configs" / "fixmatch-cpu.yaml").is_file()
    assert "ssl_core.points" in (project / "configs" / "simclr-cpu.yaml").read_text()
    stages = check_new_project(workspace, project, passed=5)  # its fakes: wprime.npz, qcd.npz
    for stage in ("data", "splits", "simclr"):
        assert f"projects/wjets/dvc.yaml:{stage} " in stages


def test_the_default_is_the_shared_top_and_qcd_files(workspace):
    project = new_project("toyjets", modality="points", repo=workspace)
    with np.load(project / "example" / "top.npz") as data:
        assert (data["label"] == 1).all() and len(data["label"]) == 50
    dataset = (project / "src" / "toyjets" / "dataset.py").read_text()
    assert 'CLASSES = ("qcd", "top")' in dataset and 'SIGNAL = "top"' in dataset


def test_a_file_named_after_no_class_holds_a_share_of_every_class(workspace):
    project = new_project(
        "mixed", modality="points", repo=workspace, files=["jets.npz"], classes=["b", "s", "x"]
    )
    with np.load(project / "example" / "jets.npz") as data:
        assert np.bincount(data["label"]).tolist() == [50, 50, 50]
    assert 'SIGNAL = "x"' in (project / "src" / "mixed" / "dataset.py").read_text()


@pytest.mark.parametrize(
    "options,message",
    [
        ({"channels": 3}, "--channels does not apply to --modality points"),
        ({"files": ["top.root"]}, "--files: 'top.root' is no .npz file name"),
        ({"files": ["a.npz", "a.npz"]}, "--files names a file twice"),
        ({"signal_class": "w"}, r"--signal-class 'w' is none of the classes \['qcd', 'top'\]"),
        ({"dataset": "Jets"}, "--dataset is for --modality series, not points"),
    ],
)
def test_points_options_are_checked_before_anything_is_written(workspace, options, message):
    with pytest.raises(NewProjectError, match=message):
        new_project("jets2", modality="points", repo=workspace, **options)
    assert not (workspace / "projects").exists()


def test_unknown_modality_or_missing_template_is_refused(workspace):
    assert set(MODALITIES) >= {"image", "points"}
    with pytest.raises(NewProjectError, match="modality must be one of"):
        new_project("sounds", repo=workspace, modality="audio")
    with pytest.raises(NewProjectError, match="no segmentation template for points"):
        new_project("jetmasks", task="segmentation", repo=workspace, modality="points")
    with pytest.raises(NewProjectError, match="--signal-class is for --modality points"):
        new_project("cells", repo=workspace, signal_class="a")
