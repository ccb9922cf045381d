"""Every method through the real ``train`` entry point on ssl-core's own fake data and
tiny config: one training step and one validation (``fast_dev_run``), and for the
semi-supervised methods, proof that the unlabeled branch moves the weights."""

from __future__ import annotations

import math

import pytest
import torch

from ssl_core import methods
from ssl_core.cli import cli

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def weak(views: int, strong: int = 0) -> str:
    return (
        '{"class_path": "ssl_core.transforms.WeakStrongTransform", "init_args": '
        f'{{"size": 32, "weak_views": {views}, "strong_views": {strong}}}}}'
    )


SIMCLR_VIEWS = '{"class_path": "ssl_core.transforms.SimCLRTransform", "init_args": {"size": 32}}'
LABELED = ["--data.split", "frac0.50-seed0", "--data.train_on", "labeled"]
SEMI = ["--data.split", "frac0.50-seed0", "--data.train_on", "semi", "--data.unlabeled_ratio", "2"]
CLASSIFIER = ["--model.init_args.num_classes", "5"]

# method -> (extra arguments, the unlabeled loss weight's name for semi methods)
RUNS = {
    "SimCLR": (["--model.init_args.hidden_dim", "32"], None),
    "BYOL": (
        ["--model.init_args.hidden_dim", "32", "--model.init_args.projection_dim", "16"],
        None,
    ),
    "MoCo": (
        ["--model.init_args.hidden_dim", "32", "--model.init_args.memory_bank_size", "32"],
        None,
    ),
    "VICReg": (
        ["--model.init_args.hidden_dim", "32", "--model.init_args.projection_dim", "32"],
        None,
    ),
    "DINO": (
        ["--model.init_args.hidden_dim", "32", "--model.init_args.bottleneck_dim", "16"]
        + ["--model.init_args.output_dim", "32"],
        None,
    ),
    "BarlowTwins": (
        ["--model.init_args.hidden_dim", "32", "--model.init_args.projection_dim", "32"],
        None,
    ),
    "SupCon": ([*LABELED, "--model.init_args.hidden_dim", "32"], None),
    "Supervised": ([*LABELED, *CLASSIFIER, "--data.labeled_transform", weak(1)], None),
    "FineTune": ([*LABELED, *CLASSIFIER, "--data.labeled_transform", weak(1)], None),
    "FixMatch": (
        [*SEMI, *CLASSIFIER, "--model.init_args.threshold", "0.0"]
        + ["--data.labeled_transform", weak(1), "--data.unlabeled_transform", weak(1, 1)],
        "lambda_u",
    ),
    "MeanTeacher": (
        [
            *SEMI,
            *CLASSIFIER,
            "--data.labeled_transform",
            weak(2),
            "--data.unlabeled_transform",
            weak(2),
        ],
        "consistency",
    ),
    "PseudoLabel": (
        [
            *SEMI,
            *CLASSIFIER,
            "--model.init_args.threshold",
            "0.0",
            "--model.init_args.rampup_end",
            "0.0",
        ]
        + ["--data.labeled_transform", weak(1), "--data.unlabeled_transform", weak(1)],
        "unlabeled_weight",
    ),
    "SemiSupCon": (
        [*SEMI, *CLASSIFIER, "--model.init_args.hidden_dim", "32"]
        + ["--data.labeled_transform", SIMCLR_VIEWS, "--data.unlabeled_transform", SIMCLR_VIEWS],
        "lambda_ntxent",
    ),
}


def fit(tiny_args, name: str, root, run_dir, *extra: str):
    args = tiny_args(root, run_dir, "--model", f"ssl_core.methods.{name}", *RUNS[name][0])
    return cli([*args, "--trainer.fast_dev_run", "1", *extra])


def weights(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.backbone.parameters()])


@pytest.mark.parametrize("name", list(RUNS))
def test_fast_dev_run_trains(name, fake_root, tmp_path, tiny_args, monkeypatch):
    snapshot = {}
    cls = getattr(methods, name)
    monkeypatch.setattr(cls, "on_train_start", lambda self: snapshot.update(w=weights(self)))
    run = fit(tiny_args, name, fake_root, tmp_path)
    before = snapshot["w"]
    assert type(run.model) is getattr(methods, name)
    metrics = run.trainer.callback_metrics
    assert math.isfinite(metrics["train/loss_step"].item())
    assert "val/knn_top1" in metrics  # the validation split, carved from train
    assert not torch.equal(weights(run.model), before), "the backbone did not train"


@pytest.mark.parametrize("name", [n for n, (_, weight) in RUNS.items() if weight])
def test_unlabeled_branch_moves_the_weights(name, fake_root, tmp_path, tiny_args):
    """Two runs with the same seed, batches and forward passes that differ only in the
    unlabeled loss's weight (0 vs its default): the weights after the step differ, so
    the unlabeled images' loss reaches the parameters."""
    weight = RUNS[name][1]
    with_unlabeled = weights(fit(tiny_args, name, fake_root, tmp_path / "a").model)
    without = weights(
        fit(tiny_args, name, fake_root, tmp_path / "b", f"--model.init_args.{weight}", "0.0").model
    )
    assert not torch.allclose(with_unlabeled, without), f"{weight} has no effect"
    again = weights(fit(tiny_args, name, fake_root, tmp_path / "c").model)
    torch.testing.assert_close(again, with_unlabeled)  # the difference is not noise
