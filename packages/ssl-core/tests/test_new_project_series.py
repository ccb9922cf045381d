"""``new-project --modality series``: a 2-channel series project rendered into a copy of
the workspace's root files; its example is two .ts files of variable-length series, its
own tests run (source, padded batches, a `train` step) and DVC sees its stages."""

from __future__ import annotations

from ssl_core.new_project import main
from ssl_core.series import read_ts


def test_series_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project
):
    args = ["toyts", "--modality", "series", "--channels", "2", "--classes", "up", "down"]
    main([*args, "--repo", str(workspace)])
    assert "train fit --config simclr-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "toyts"
    train = read_ts(project / "example" / "toyts_TRAIN.ts")
    assert train.class_names == ["up", "down"] and len(train.series) == 16
    assert {s.shape[0] for s in train.series} == {2}
    assert len({s.shape[1] for s in train.series}) > 1  # variable lengths: masks matter
    assert len(read_ts(project / "example" / "toyts_TEST.ts").series) == 6
    text = (project / "configs" / "simclr-cpu.yaml").read_text()
    assert "ssl_core.series.ResNet1d" in text and "in_channels: 2" in text
    assert "toyts.ToytsDataModule" in text
    stages = check_new_project(workspace, project)
    assert "train@toyts-simclr" in stages and "random-init@toyts" in stages
