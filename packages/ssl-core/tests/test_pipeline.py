"""``ssl_core.pipeline``: which commands a stage runs and what it leaves in its folder.

``train`` and ``evaluate`` are replaced by a recorder that writes the files the real ones
would, so these tests check the stage's own logic in milliseconds (the DVC tests in
``projects/imagenette/tests/test_dvc.py`` run the real commands).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ssl_core import pipeline


@pytest.fixture
def stage(tmp_path, monkeypatch):
    """A configs folder, a manifest and a recorder in place of ``train``/``evaluate``."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "m-cpu.yaml").write_text("seed_everything: 0\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"root": "data/root"}))
    out = tmp_path / "out"
    calls: list[list[str]] = []

    def fake_run(name: str, args: list[str]) -> float:
        calls.append([name, *args])
        if name == "train" and "fit" in args:
            (out / "train" / "checkpoints").mkdir(parents=True, exist_ok=True)
            torch.save(
                {"global_step": 10, "state_dict": {"w": torch.ones(2)}, "optimizer_states": [{}]},
                out / "train" / "checkpoints" / "last.ckpt",
            )
            torch.save({"global_step": 9}, out / "train" / "checkpoints" / "best-epoch=0.ckpt")
            (out / "train" / "metrics.csv").write_text("step,train/loss\n0,2.5\n9,1.5\n")
        elif name == "train" and "test" in args:  # Lightning's CSV log of `train test`
            (out / "test").mkdir(parents=True, exist_ok=True)
            (out / "test" / "config.yaml").write_text(  # what LightningCLI saves
                "seed_everything: 0\nmodel:\n  class_path: ssl_core.methods.Supervised\n"
            )
            (out / "test" / "metrics.csv").write_text(
                "epoch,step,test/knn_top1,test/knn_top5,test/top1\n0,10,0.5,0.9,0.625\n"
            )
        elif name == "evaluate":
            (out / "metrics.json").write_text(json.dumps({"knn_top1": 0.5}))
        return 1.24

    monkeypatch.setattr(pipeline, "_run", fake_run)
    monkeypatch.setattr(pipeline, "_start", lambda *modules: 0.5)

    def run(*extra: str) -> dict:
        pipeline.main(
            [
                "--project",
                "p",
                "--method",
                "m",
                "--budget",
                "cpu",
                "--configs",
                str(configs),
                "--manifest",
                str(manifest),
                "--split",
                "s.json",
                "--out",
                str(out),
                *extra,
            ]
        )
        return json.loads((out / "metrics.json").read_text())

    return run, calls, out


def _subcommand(call: list[str]) -> str:
    return call[0] if call[0] == "evaluate" else call[3]  # train --project p <sub>


def test_a_stage_fits_then_predicts_its_last_checkpoint_then_evaluates(stage):
    run, calls, out = stage
    metrics = run("--", "--model.x", "1")
    assert [_subcommand(c) for c in calls] == ["fit", "predict", "evaluate"]
    fit, predict, evaluate = calls
    for call in (fit, predict):  # the config of the budget, the data root, split, extras
        assert call[call.index("--config") + 1].endswith("m-cpu.yaml")
        assert call[call.index("--data.root") + 1] == "data/root"
        assert call[call.index("--model.x") + 1] == "1"  # what follows `--`
    assert predict[predict.index("--ckpt_path") + 1] == str(out / "checkpoints" / "last.ckpt")
    assert evaluate[1:] == [str(out), "--metrics-csv", str(out / "train" / "metrics.csv")]
    last = torch.load(out / "checkpoints" / "last.ckpt")
    assert last["global_step"] == 10 and torch.equal(last["state_dict"]["w"], torch.ones(2))
    assert "optimizer_states" not in last  # the finished stage keeps its weights only
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["last.ckpt"]  # final step only
    assert (out / "curves.csv").read_text().splitlines() == ["step,loss", "0,2.5", "9,1.5"]
    assert metrics["knn_top1"] == 0.5
    assert metrics["seconds"] == {
        "start": 0.5,
        "fit": 1.2,  # rounded to 0.1 s as written...
        "predict": 1.2,
        "evaluate": 1.2,
        "total": 4.1,  # ...and the total is the sum of what is written
    }


def test_no_fit_is_the_untrained_baseline_and_clears_an_earlier_fitted_run(stage):
    run, calls, out = stage
    run()  # a fitted run first, in the same folder
    calls.clear()
    metrics = run("--no-fit")
    assert [_subcommand(c) for c in calls] == ["predict", "evaluate"]
    predict, evaluate = calls
    assert "--ckpt_path" not in predict  # the network as its config builds it
    assert evaluate[1:] == [str(out), "--no-classifier"]  # no log; an untrained head
    assert not any((out / p).exists() for p in ("train", "checkpoints", "curves.csv"))
    assert set(metrics["seconds"]) == {"start", "predict", "evaluate", "total"}


def test_budget_smoke_adds_the_projects_own_smoke_config(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "m-cpu.yaml").write_text("seed_everything: 0\n")
    with pytest.raises(FileNotFoundError, match="smoke.yaml"):  # no built-in smoke settings
        pipeline.train_args("m", "smoke", configs, "data/root", None)
    (configs / "smoke.yaml").write_text("trainer:\n  max_steps: 2\n")
    common = pipeline.train_args("m", "smoke", configs, "data/root", None)
    assert [a for i, a in enumerate(common) if i and common[i - 1] == "--config"] == [
        str(configs / "m-cpu.yaml"),  # the CPU recipe, then the project's overlay
        str(configs / "smoke.yaml"),
    ]
    common = pipeline.train_args("m", "cpu", configs, "data/root", None)
    assert common.count("--config") == 1  # budget cpu: the CPU recipe alone


def _killed(out, step: int) -> None:
    """Leave ``out`` as a fit killed after an epoch-end checkpoint at ``step`` would."""
    marker = out / "train" / "stage.json"
    state = json.loads(marker.read_text())
    marker.write_text(json.dumps({**state, "finished": False}))
    (out / "train" / "checkpoints").mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": step}, out / "train" / "checkpoints" / "last.ckpt")


def test_a_killed_stage_resumes_its_fit_and_a_changed_one_starts_fresh(stage, tmp_path):
    run, calls, out = stage
    run()
    assert json.loads((out / "train" / "stage.json").read_text())["finished"] is True
    _killed(out, step=7)
    calls.clear()
    run()
    fit = next(c for c in calls if "fit" in c)
    assert fit[fit.index("--ckpt_path") + 1] == str(out / "train" / "checkpoints" / "last.ckpt")
    logger = json.loads(fit[fit.index("--trainer.logger") + 1])
    assert logger["class_path"].endswith("ResumableCSVLogger")
    assert logger["init_args"]["keep_before_step"] == 7
    _killed(out, step=7)
    (tmp_path / "configs" / "m-cpu.yaml").write_text("seed_everything: 1\n")  # another recipe
    calls.clear()
    run()
    fit = next(c for c in calls if "fit" in c)
    assert "--ckpt_path" not in fit  # never resume a run of other settings


def test_steps_set_the_fit_length_the_same_for_every_method_at_every_budget(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "m-cpu.yaml").write_text("seed_everything: 0\n")
    (configs / "smoke.yaml").write_text("trainer:\n  max_steps: 2\n")
    common = pipeline.train_args("m", "cpu", configs, "r", None, ["--x", "1"], steps=7)
    assert common[-6:] == ["--trainer.max_steps", "7", "--trainer.max_epochs", "-1", "--x", "1"]
    common = pipeline.train_args("m", "smoke", configs, "r", None, steps=7)
    # smoke: its two batches, for every method (an epoch of one labeled batch would
    # stop a supervised run after one step and the others after two)
    assert common[-4:] == ["--trainer.max_steps", "2", "--trainer.max_epochs", "-1"]
    assert common.index("--trainer.max_steps") > common.index(str(configs / "smoke.yaml"))


def test_test_only_fits_without_validation_then_tests_its_last_checkpoint(stage):
    run, calls, out = stage
    metrics = run("--test-only", "--steps", "40")  # --split s.json: a name, no file
    assert [_subcommand(c) for c in calls] == ["fit", "test"]  # no predict, no evaluate
    fit, test = calls
    assert fit[fit.index("--trainer.max_steps") + 1] == "40"
    assert fit[fit.index("--trainer.limit_val_batches") + 1] == "0"  # the test set reports
    assert "--trainer.limit_val_batches" not in test
    assert test[test.index("--ckpt_path") + 1] == str(out / "checkpoints" / "last.ckpt")
    assert test[test.index("--config") + 1].endswith("m-cpu.yaml")
    assert metrics["test_top1"] == 0.625 and metrics["test_knn_top1"] == 0.5
    assert metrics["metric"] == "test_top1"  # the headline the task names first
    assert metrics["method"] == "m" and metrics["split"] == "s"
    assert metrics["steps"] == 10  # what the checkpoint says, not what was asked
    assert metrics["seconds"] == {"start": 0.5, "fit": 1.2, "test": 1.2, "total": 2.9}
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "metrics.json", "train"]


def test_test_only_records_the_split_it_trained_on(stage, tmp_path):
    from ssl_core.splits import make_split

    run, _, out = stage
    ids = [f"train/c{i % 2}/{i}.jpg" for i in range(40)]
    split = make_split("toy", ids, [i % 2 for i in range(40)], fraction=0.25, seed=2)
    path = split.save(tmp_path / "frac0.25-seed2.json")
    configs, manifest = tmp_path / "configs", tmp_path / "manifest.json"
    pipeline.run_stage("p", "m", "cpu", configs, manifest, str(path), out, test_only=True)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "frac0.25-seed2"
    assert (metrics["fraction"], metrics["seed"]) == (0.25, 2)
    assert metrics["num_labeled"] == len(split.labeled) > 0


def test_test_only_refuses_a_method_without_classifier(stage, monkeypatch):
    run, _, out = stage
    real = pipeline._run

    def no_top1(name: str, args: list[str]) -> float:
        seconds = real(name, args)
        if "test" in args:
            (out / "test" / "metrics.csv").write_text("epoch,step,test/knn_top1\n0,10,0.5\n")
        return seconds

    monkeypatch.setattr(pipeline, "_run", no_top1)
    with pytest.raises(SystemExit, match="no test/roc_auc or test/top1"):
        run("--test-only")


def test_test_only_writes_the_metrics_a_segmentation_task_names(stage):
    run, calls, out = stage
    real = pipeline._run

    def segmentation(name: str, args: list[str]) -> float:
        seconds = real(name, args)
        if "test" in args:
            (out / "test" / "config.yaml").write_text(
                "model:\n  class_path: ssl_core.segmentation.SupervisedSegmentation\n"
            )
            (out / "test" / "metrics.csv").write_text(
                "epoch,step,test/loss,test/iou,test/dice\n0,10,0.3,0.75,0.857\n"
            )
        return seconds

    pipeline._run = segmentation  # the fixture's monkeypatch restores it
    metrics = run("--test-only")
    assert metrics["metric"] == "test_iou"
    assert (metrics["test_iou"], metrics["test_dice"]) == (0.75, 0.857)
    assert "test_top1" not in metrics


# ----------------------------------------------------------------- the resume key
def _key_of(tmp_path, method_config: str) -> str:
    configs = tmp_path / "configs"
    configs.mkdir(exist_ok=True)
    (configs / "m-cpu.yaml").write_text(method_config)
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"root": "r"}')
    common = pipeline.train_args("m", "cpu", configs, "r", None)
    return pipeline.stage_key("p", common, manifest)


def test_the_resume_key_follows_the_code_the_run_uses_only(tmp_path, monkeypatch):
    """An edit to a file the run does not use (another method, evaluate/) keeps the key
    of a killed stage; an edit to the method it trains changes it."""
    import shutil

    import ssl_core

    copy = tmp_path / "src" / "ssl_core"
    shutil.copytree(Path(ssl_core.__file__).parent, copy)
    monkeypatch.setattr(
        "ssl_core.pipeline._package_dir", lambda top: copy if top == "ssl_core" else None
    )
    config = "model:\n  class_path: ssl_core.methods.Supervised\n"
    key = _key_of(tmp_path, config)
    for other in ("methods/dino.py", "evaluate/metrics.py", "results.py"):
        (copy / other).write_text((copy / other).read_text() + "\n# an edit\n")
        assert _key_of(tmp_path, config) == key, other
    for used in ("methods/supervised.py", "methods/base.py", "task.py", "cli.py"):
        (copy / used).write_text((copy / used).read_text() + "\n# an edit\n")
        changed = _key_of(tmp_path, config)
        assert changed != key, used
        key = changed
    # the recipe names another method: that method's file is the run's code now
    dino = "model:\n  class_path: ssl_core.methods.DINO\n"
    before = _key_of(tmp_path, dino)
    (copy / "methods/dino.py").write_text((copy / "methods/dino.py").read_text() + "\n# again\n")
    assert _key_of(tmp_path, dino) != before


def test_a_linked_last_checkpoint_is_kept_as_the_file_it_names(tmp_path, monkeypatch):
    """``ModelCheckpoint(save_last="link")``: ``last.ckpt`` links to a checkpoint the
    pruning removes; the stage keeps that file under the name ``last.ckpt``."""
    saved = tmp_path / "train" / "checkpoints"

    def fit(name: str, args: list[str]) -> float:
        saved.mkdir(parents=True)
        torch.save({"global_step": 4}, saved / "epoch=1-step=4.ckpt")
        (saved / "last.ckpt").symlink_to("epoch=1-step=4.ckpt")
        return 1.0

    monkeypatch.setattr(pipeline, "_run", fit)
    pipeline._fit(tmp_path, [], [], "key")
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert not last.is_symlink() and torch.load(last)["global_step"] == 4
    assert [p.name for p in last.parent.iterdir()] == ["last.ckpt"]
