"""``ssl_core.pipeline``: which commands a stage runs and what it leaves in its folder.

``train`` and ``evaluate`` are replaced by a recorder that writes the files the real ones
would, so these tests check the stage's own logic in milliseconds (the DVC tests in
``projects/imagenette/tests/test_dvc.py`` run the real commands).
"""

from __future__ import annotations

import json

import pytest

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
            (out / "train" / "checkpoints" / "last.ckpt").write_text("weights")
            (out / "train" / "metrics.csv").write_text("step,train/loss\n0,2.5\n9,1.5\n")
        elif name == "evaluate":
            (out / "metrics.json").write_text(json.dumps({"knn_top1": 0.5}))
        return 1.24

    monkeypatch.setattr(pipeline, "_run", fake_run)
    monkeypatch.setattr(pipeline, "_start", lambda: 0.5)

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
    assert (out / "checkpoints" / "last.ckpt").read_text() == "weights"
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
    assert evaluate[1:] == [str(out)]  # no training log to plot
    assert not any((out / p).exists() for p in ("train", "checkpoints", "curves.csv"))
    assert set(metrics["seconds"]) == {"start", "predict", "evaluate", "total"}


def test_budget_smoke_adds_the_projects_own_smoke_config(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "m-cpu.yaml").write_text("seed_everything: 0\n")
    with pytest.raises(FileNotFoundError, match="smoke.yaml"):  # no built-in smoke settings
        pipeline.train_args("p", "m", "smoke", configs, "data/root", None)
    (configs / "smoke.yaml").write_text("trainer:\n  max_steps: 2\n")
    _, common = pipeline.train_args("p", "m", "smoke", configs, "data/root", None)
    assert [a for i, a in enumerate(common) if i and common[i - 1] == "--config"] == [
        str(configs / "m-cpu.yaml"),  # the CPU recipe, then the project's overlay
        str(configs / "smoke.yaml"),
    ]
    _, common = pipeline.train_args("p", "m", "cpu", configs, "data/root", None)
    assert common.count("--config") == 1  # budget cpu: the CPU recipe alone


def _killed(out, step: int) -> None:
    """Leave ``out`` as a fit killed after an epoch-end checkpoint at ``step`` would."""
    import torch

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
