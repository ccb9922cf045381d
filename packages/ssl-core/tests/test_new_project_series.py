"""``new-project --modality series``: a series project rendered into a copy of the
workspace's root files. A UEA set whose files are named other than the project
(``--dataset BasicMotions``: 6 dimensions, 4 classes) is read with no code edit: the
example, the fake data and the project's own tests (source, padded batches, a `train`
step) follow the stem, and DVC sees its stages."""

from __future__ import annotations

import sys

import pytest

from ssl_core.new_project import NewProjectError, main, new_project
from ssl_core.series import read_ts

MOTIONS = ["standing", "running", "walking", "badminton"]


def test_a_uea_set_named_otherwise_needs_no_code_edit(workspace, capsys, check_new_project):
    args = ["motions", "--modality", "series", "--dataset", "BasicMotions", "--channels", "6"]
    main([*args, "--classes", *MOTIONS, "--repo", str(workspace)])
    out = capsys.readouterr().out
    assert "train fit --config simclr-cpu" in out
    assert "at the folder of BasicMotions_TRAIN.ts and BasicMotions_TEST.ts;" in out
    project = workspace / "projects" / "motions"
    assert sorted(p.name for p in (project / "example").iterdir()) == [
        "BasicMotions_TEST.ts",
        "BasicMotions_TRAIN.ts",
    ]
    train = read_ts(project / "example" / "BasicMotions_TRAIN.ts")
    assert train.class_names == MOTIONS and len(train.series) == 8 * 4
    assert {s.shape[0] for s in train.series} == {6}
    assert len({s.shape[1] for s in train.series}) > 1  # variable lengths: masks matter
    assert len(read_ts(project / "example" / "BasicMotions_TEST.ts").series) == 3 * 4
    dataset = (project / "src" / "motions" / "dataset.py").read_text()
    assert 'DATASET = "BasicMotions"' in dataset and 'self.name = "motions"' in dataset
    text = (project / "configs" / "simclr-cpu.yaml").read_text()
    assert "ssl_core.series.ResNet1d" in text and "in_channels: 6" in text
    assert "motions.MotionsDataModule" in text
    stages = check_new_project(workspace, project)  # its tests write BasicMotions_*.ts
    assert "projects/motions/dvc.yaml:simclr " in stages
    assert "projects/motions/dvc.yaml:random-init " in stages


def test_by_default_the_stem_is_the_name_and_the_classes_the_files(workspace, monkeypatch):
    project = new_project("toyts", modality="series", repo=workspace)
    assert sorted(p.name for p in (project / "example").iterdir()) == [
        "toyts_TEST.ts",
        "toyts_TRAIN.ts",
    ]
    assert "in_channels: 1," in (project / "configs" / "simclr-cpu.yaml").read_text()
    monkeypatch.syspath_prepend(str(project / "src"))
    try:
        from toyts import Toyts

        source = Toyts()  # no classes given: the training file's @classLabel list
        labels = {label for _, label in source.list_samples(project / "example", "train")}
        assert labels == {0, 1} and source.class_names == ("class_a", "class_b")
        assert source.name == "toyts" and source.channels == 1
    finally:
        for module in [m for m in sys.modules if m.split(".")[0] == "toyts"]:
            del sys.modules[module]


@pytest.mark.parametrize(
    "options,message",
    [
        (
            {"dataset": "BasicMotions_TRAIN.ts"},
            "--dataset 'BasicMotions_TRAIN.ts': the files' stem",
        ),
        ({"dataset": "../up"}, "--dataset '../up': the files' stem, e.g. BasicMotions"),
        ({"files": ["a.npz"]}, "--files is for --modality points, not series"),
        ({"classes": ["walk", "walk"]}, r"--classes names \['walk'\] more than once"),
        ({"classes": ["walk", "run fast"]}, r"class name 'run fast': no spaces"),
        ({"classes": ["walk"]}, "tells 2 classes apart at least"),
        ({"channels": 0}, "channels must be >= 1, not 0"),
    ],
)
def test_series_options_are_checked_before_anything_is_written(workspace, options, message):
    params = (workspace / "params.yaml").read_text()
    with pytest.raises(NewProjectError, match=message):
        new_project("motions", modality="series", repo=workspace, **options)
    assert (
        not (workspace / "projects").exists() and (workspace / "params.yaml").read_text() == params
    )
