"""``new-project --task segmentation``: a 1-channel project rendered into a copy of the
workspace's root files; its own tests run (dataset, batches, a `train` step) and DVC
sees its four pairs without a change to dvc.yaml."""

from __future__ import annotations

from ssl_core.new_project import main


def test_segmentation_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project
):
    dvc_yaml = (workspace / "dvc.yaml").read_text()
    main(["seg1", "--task", "segmentation", "--channels", "1", "--repo", str(workspace)])
    assert "train fit --config supervised-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "seg1"
    assert (project / "src" / "seg1" / "dataset.py").read_text().count("FILL IN") == 1
    example = project / "example" / "train"
    images = {p.name for p in (example / "images").glob("*.png")}
    masks = {p.name for p in (example / "masks").glob("*.png")}
    assert len(images) == 32 and len(masks) == 16 and masks < images  # 16 unlabeled
    configs = {p.stem for p in (project / "configs").glob("*.yaml")}
    for method in ("supervised", "fixmatch", "meanteacher", "unimatch"):
        assert {method, f"{method}-cpu"} <= configs
        text = (project / "configs" / f"{method}-cpu.yaml").read_text()
        assert text.startswith("# extends: trainer-cpu.yaml") and "in_channels: 1" in text
    assert (workspace / "dvc.yaml").read_text() == dvc_yaml
    stages = check_new_project(workspace, project)
    for method in ("supervised", "fixmatch", "meanteacher", "unimatch"):
        assert f"segment@seg1-{method}" in stages
    assert "random-init-masks@seg1" in stages  # its untrained baseline
