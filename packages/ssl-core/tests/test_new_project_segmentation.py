"""``new-project --task segmentation``: a 1-channel project rendered into a copy of the
workspace's root files; its own tests run (dataset, batches, a `train` step) and DVC
sees its four pairs in the pipeline written beside it."""

from __future__ import annotations

from ssl_core.new_project import main


def test_segmentation_project_trains_passes_its_tests_and_joins_the_pipeline(
    workspace, capsys, check_new_project
):
    main(["seg1", "--task", "segmentation", "--channels", "1", "--repo", str(workspace)])
    assert "train fit --config supervised-cpu" in capsys.readouterr().out
    project = workspace / "projects" / "seg1"
    assert (project / "src" / "seg1" / "dataset.py").read_text().count("FILL IN") == 1
    example = project / "example" / "train"
    images = {p.name for p in (example / "images").glob("*.png")}
    masks = {p.name for p in (example / "masks").glob("*.png")}
    assert len(images) == 32 and len(masks) == 16 and masks < images  # 16 unlabeled
    # every method is ssl-core's recipe on the project's data and network: no file of its own
    configs = {p.stem for p in (project / "configs").glob("*.yaml")}
    assert configs == {"data", "data-cpu", "model", "smoke"}
    assert "in_channels: 1" in (project / "configs" / "model.yaml").read_text()
    assert "task: segmentation" in (project / "params.yaml").read_text()
    pipeline = (project / "dvc.yaml").read_text()
    assert "results/seg1/random-init/masks" in pipeline  # its untrained baseline's masks
    stages = check_new_project(workspace, project, passed=4)  # 2 + one step of 2 methods
    for stage in ("supervised", "fixmatch", "meanteacher", "unimatch", "random-init"):
        assert f"projects/seg1/dvc.yaml:{stage} " in stages
