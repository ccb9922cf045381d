"""``bench/lightly_reference.py``: ours and lightly's benchmark code for the same method,
side by side in one run, through the real ``train`` command on a fake Imagenette (one
step each), so the benchmark cannot rot unnoticed."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest
import torch

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")

BENCH = Path(__file__).resolve().parents[3] / "bench"

TINY = [
    "--data.download", "false",
    "--trainer.fast_dev_run", "1",
    "--trainer.accelerator", "cpu",
    "--data.num_workers", "0",
    "--data.batch_size", "8",
    "--data.modality.size", "32",
    "--data.eval_batch_size", "32",
    "--model.init_args.knn_k", "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def reference():
    """The benchmark module, imported from bench/ (on the path while the tests run: the
    runs name its classes ``lightly_reference.<Class>``)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH))
        yield importlib.import_module("lightly_reference")
    sys.modules.pop("lightly_reference", None)


@pytest.mark.parametrize("method", ["byol", "moco", "barlowtwins", "dino"])
def test_three_runs_side_by_side(method, reference, fake_root, tmp_path):
    """Random init, ours and lightly's, each on the config's backbone (a resnet34 here,
    not the default resnet18), one step each, each with its own validation kNN."""
    out = tmp_path / "out"
    backbone = ["--model.init_args.backbone.init_args.name", "resnet34"]
    argv = [method, "--root", str(fake_root), "--out", str(out), "--", *TINY, *backbone]
    results = reference.main(argv)

    assert list(results) == ["random init", "ours", "lightly reference"]
    assert {r["backbone"] for r in results.values()} == {"resnet34"}
    assert all(math.isfinite(r["val_knn_top1"]) for r in results.values())
    assert results["random init"]["steps"] == 0
    assert results["ours"]["steps"] == results["lightly reference"]["steps"] == 1
    assert (out / "side_by_side.json").is_file()
    assert results["lightly reference"]["model"] == reference.REFERENCES[method].__name__
    ours = results["ours"]["model"]
    assert ours == results["random init"]["model"]
    assert ours not in {c.__name__ for c in reference.REFERENCES.values()}


def test_the_reference_trains_with_lightlys_optimizer(reference, fake_root, tmp_path):
    """SGD at 0.06 x batch/256, momentum 0.9, weight decay 5e-4 on every trainable
    parameter (batch norm and biases included), whatever the config's optimizer says."""
    from ssl_core.cli import cli

    run = cli(
        [
            "--project", "imagenette", "fit", "--config", "byol-cpu",
            "--data.root", str(fake_root), "--trainer.default_root_dir", str(tmp_path),
            "--model.class_path", "lightly_reference.LightlyBYOL", *TINY,
        ]
    )  # fmt: skip
    model = run.model
    assert type(model).__name__ == "LightlyBYOL"
    (optimizer,) = run.trainer.optimizers
    (group,) = optimizer.param_groups
    assert isinstance(optimizer, torch.optim.SGD)
    assert group["initial_lr"] == pytest.approx(0.06 * 8 / 256)
    assert group["momentum"] == 0.9 and group["weight_decay"] == 5e-4
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(group["params"]) == len(trainable)
