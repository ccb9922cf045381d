"""A trained model on other data: a checkpoint scores every sample of another root, read
as in training (normalization, classes, settings kept in the checkpoint), any method
loads from its checkpoint alone, and the shift report compares two data sets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_core.cli import cli
from ssl_core.evaluate.shift import main as shift_main
from ssl_core.methods import Supervised
from ssl_core.points.fake import write_fake_jet_files

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIGS = Path(__file__).resolve().parent / "configs"
JETS = str(CONFIGS / "jets-supervised-tiny.yaml")


def run(subcommand: str, *args: str):
    """``train SUBCOMMAND`` of the tiny supervised jet tagger."""
    return cli([subcommand, "--config", JETS, *args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, Path]:
    """``(root A, root B, checkpoint)``: a tiny supervised jet tagger fitted on A; B holds
    A's jets and 20 more of each class with 5x the momenta (other statistics)."""
    base = tmp_path_factory.mktemp("transfer")
    a = write_fake_jet_files(base / "a", per_class=40)
    b = base / "b"
    b.mkdir()
    for name in ("top.npz", "qcd.npz"):
        with np.load(a / name) as data:
            arrays = {k: data[k] for k in data.files}
        extra = {k: v[:20].copy() for k, v in arrays.items()}
        extra["constituents"] *= 5.0
        np.savez(b / name, **{k: np.concatenate([arrays[k], extra[k]]) for k in arrays})
    run("fit", "--data.root", str(a), "--trainer.default_root_dir", str(base / "fit"))
    return a, b, next((base / "fit").rglob("last.ckpt"))


def scores(run_dir: Path) -> dict[str, np.ndarray]:
    with np.load(run_dir / "embeddings" / "test.npz") as data:
        return dict(zip(data["ids"].tolist(), data["logits"], strict=True))


def test_every_jet_of_another_root_is_scored_with_the_training_normalization(trained, tmp_path):
    a, b, ckpt = trained
    common = ("--ckpt_path", str(ckpt), "--data.test_on", "all")
    on_a = run("predict", "--data.root", str(a), "--trainer.default_root_dir",
               str(tmp_path / "a"), *common)  # fmt: skip
    on_b = run("predict", "--data.root", str(b), "--trainer.default_root_dir",
               str(tmp_path / "b"), *common)  # fmt: skip
    stored = torch.load(ckpt, weights_only=False)["data_reading"]
    assert on_b.datamodule.mean.tolist() == pytest.approx(stored["mean"])
    first, second = scores(tmp_path / "a"), scores(tmp_path / "b")
    assert len(first) == 80 and len(second) == 120  # every jet of the root, no split
    for jet, logits in first.items():  # B's other statistics change nothing
        np.testing.assert_allclose(second[jet], logits, rtol=1e-5, atol=1e-6)
    meta = json.loads((tmp_path / "b" / "embeddings" / "meta.json").read_text())
    assert meta["data_root"] == str(b.resolve()) and meta["test_on"] == "all"
    assert sorted(meta["splits"]) == ["test"]

    remeasured = run("predict", "--data.root", str(b), "--trainer.default_root_dir",
                     str(tmp_path / "r"), *common, "--data.remeasure_statistics", "true")  # fmt: skip
    assert remeasured.datamodule.mean.tolist() != pytest.approx(stored["mean"])
    moved = scores(tmp_path / "r")
    assert any(not np.allclose(moved[j], first[j], atol=1e-4) for j in first)
    assert on_a.datamodule.test_on == "all"


def test_the_checkpoint_refuses_other_settings_in_one_line(trained, tmp_path):
    a, _, ckpt = trained
    with pytest.raises(SystemExit, match=r"trained on data settings \{'max_particles': 32"):
        run("test", "--data.root", str(a), "--ckpt_path", str(ckpt),
            "--data.modality.init_args.max_particles", "16",
            "--trainer.default_root_dir", str(tmp_path))  # fmt: skip
    with pytest.raises(SystemExit, match="test_on all is for test and predict, not fit"):
        run("fit", "--data.root", str(a), "--data.test_on", "all",
            "--trainer.default_root_dir", str(tmp_path))  # fmt: skip


def test_any_method_loads_from_its_checkpoint_alone(trained):
    a, _, ckpt = trained
    model = Supervised.load_from_checkpoint(ckpt)
    state = torch.load(ckpt, weights_only=False)["state_dict"]
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert type(model.backbone).__name__ == "ParticleFlowNetwork"
    assert model.data_reading["class_names"] == ["qcd", "top"]


def test_the_shift_report_compares_two_roots(trained, tmp_path, capsys):
    a, b, ckpt = trained
    run("predict", "--data.root", str(a), "--ckpt_path", str(ckpt),
        "--trainer.default_root_dir", str(tmp_path / "ref"))  # fmt: skip
    run("predict", "--data.root", str(b), "--ckpt_path", str(ckpt), "--data.test_on", "all",
        "--trainer.default_root_dir", str(tmp_path / "new"))  # fmt: skip
    shift_main([str(tmp_path / "ref"), str(tmp_path / "new"), "--out", str(tmp_path / "shift"),
                "--bootstrap", "20"])  # fmt: skip
    report = json.loads((tmp_path / "shift" / "shift.json").read_text())
    assert report["reference"]["data_root"] == str(a.resolve())
    assert report["shifted"]["data_root"] == str(b.resolve())
    assert report["score"] == "classifier"
    task = report["task"]
    assert task["reference"]["rows"] == 16 and task["shifted"]["rows"] == 120
    assert 0 <= task["shifted"]["roc_auc"] <= 1 and task["shifted"]["roc_auc_err"] >= 0
    assert task["shifted"]["n_background"] == 60
    assert {t["class"] for t in report["score_tests"]} == {"qcd", "top"}
    point = report["working_point"]
    assert 0 <= point["shifted_eps_s"] <= 1 and point["shifted_rows"] == 120
    assert 0 <= report["domain_classifier"]["auc"] <= 1
    assert report["refit_on_shifted_labels"]["rows"] == 60
    printed = capsys.readouterr().out
    assert "| roc_auc |" in printed and "Working point carried over" in printed
    assert "Refit on the shifted labels" in printed

    with pytest.raises(SystemExit, match=r"shift: .*scored every sample"):
        shift_main([str(tmp_path / "new"), str(tmp_path / "ref"), "--out", str(tmp_path / "x")])


def test_a_series_shift_stands_in_for_a_second_root(tmp_path):
    """No second data set: the series' own corruption (``--data.shift noise:S``) is the
    shifted side, read as ``RUN:test_shifted``."""
    from ssl_core.series.fake import write_fake_ts

    root = tmp_path / "data"
    write_fake_ts(root / "Toy_TRAIN.ts", ("a", "b"), 10, channels=2, seed=0)
    write_fake_ts(root / "Toy_TEST.ts", ("a", "b"), 6, channels=2, seed=1)
    config = str(CONFIGS / "series-tiny.yaml")
    common = ["--config", config, "--data.root", str(root)]
    cli(["fit", *common, "--trainer.default_root_dir", str(tmp_path / "fit"),
         "--trainer.enable_checkpointing", "true"])  # fmt: skip
    ckpt = next((tmp_path / "fit").rglob("last.ckpt"))
    cli(["predict", *common, "--ckpt_path", str(ckpt), "--data.shift", "noise:2.0",
         "--trainer.default_root_dir", str(tmp_path / "run")])  # fmt: skip
    run_dir = str(tmp_path / "run")
    shift_main([run_dir, f"{run_dir}:test_shifted", "--out", str(tmp_path / "shift"),
                "--bootstrap", "20"])  # fmt: skip
    report = json.loads((tmp_path / "shift" / "shift.json").read_text())
    assert report["score"].startswith("linear probe on the reference training")
    assert set(report["task"]["shifted"]) >= {"accuracy", "accuracy_err", "rows"}
    assert report["domain_classifier"]["auc"] > 0.5  # the noise is visible in the embedding
    with pytest.raises(SystemExit, match="Bad shift 'wobble:1'"):
        cli(["predict", *common, "--ckpt_path", str(ckpt), "--data.shift", "wobble:1",
             "--trainer.default_root_dir", str(tmp_path / "bad")])  # fmt: skip
    shutil.rmtree(tmp_path / "bad", ignore_errors=True)
