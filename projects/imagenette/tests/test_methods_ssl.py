"""BYOL, MoCo, VICReg, DINO, Barlow Twins and SupCon through the real ``train`` entry
point: one training step + one validation batch (``fast_dev_run``) on a fake Imagenette,
from each method's CPU config with its heads narrowed on the command line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from imagenette.dataset import Imagenette
from ssl_core import methods
from ssl_core.cli import cli
from ssl_core.splits import LabelSplit, make_split

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MOMENTUM_METHODS = ("byol", "moco", "dino")
CLASSES = {
    "byol": "BYOL",
    "moco": "MoCo",
    "vicreg": "VICReg",
    "dino": "DINO",
    "barlowtwins": "BarlowTwins",
    "supcon": "SupCon",
}

# Command-line overrides that make each recipe tiny (heads of width 32-64).
SMALL = {
    "byol": {"hidden_dim": 64, "projection_dim": 32},
    "moco": {"hidden_dim": 64, "projection_dim": 32, "memory_bank_size": 64},
    "vicreg": {"hidden_dim": 64, "projection_dim": 64},
    "dino": {"hidden_dim": 64, "bottleneck_dim": 32, "output_dim": 64},
    "barlowtwins": {"hidden_dim": 64, "projection_dim": 64},
    "supcon": {"hidden_dim": 64, "projection_dim": 32},
}


@pytest.fixture(scope="module")
def fake_split(fake_root, tmp_path_factory) -> Path:
    train = Imagenette().list_samples(fake_root, "train")
    paths, labels = [p for p, _ in train], [y for _, y in train]
    split = make_split("imagenette", paths, labels, fraction=0.5, seed=0)
    return split.save(tmp_path_factory.mktemp("splits") / "frac0.50-seed0.json")


def train_args(method: str, root: Path, run_dir: Path, *extra: str) -> list[str]:
    args = [
        "--project",
        "imagenette",
        "fit",
        "--config",
        str(CONFIGS / f"{method}-cpu.yaml"),
        "--data.root",
        str(root),
        "--data.download",
        "false",
        "--trainer.fast_dev_run",
        "1",
        "--trainer.accelerator",
        "cpu",
        "--trainer.default_root_dir",
        str(run_dir),
        "--data.num_workers",
        "0",
        "--data.batch_size",
        "8",
        "--data.modality.size",
        "32",
        "--data.eval_batch_size",
        "32",
        "--model.init_args.knn_k",
        "5",
    ]
    for key, value in SMALL[method].items():
        args += [f"--model.init_args.{key}", str(value)]
    return args + list(extra)


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters(), strict=True))


@pytest.mark.parametrize("method", list(CLASSES))
def test_fast_dev_run_trains(method, fake_root, fake_split, tmp_path, monkeypatch):
    snapshots = {}

    def on_train_start(self) -> None:  # what the weights were before the first step
        snapshots["backbone"] = _snapshot(self.backbone)
        if hasattr(self, "backbone_momentum"):
            snapshots["momentum"] = _snapshot(self.backbone_momentum)

    cls = getattr(methods, CLASSES[method])
    monkeypatch.setattr(cls, "on_train_start", on_train_start)
    extra = ["--data.split", str(fake_split)] if method == "supcon" else []
    run = cli(train_args(method, fake_root, tmp_path, *extra))

    model = run.model
    assert type(model) is cls
    metrics = run.trainer.callback_metrics
    assert math.isfinite(metrics["train/loss_step"].item())
    assert "val/knn_top1" in metrics
    assert _changed(snapshots["backbone"], model.backbone), "the backbone did not train"
    embedded = model.embed(torch.zeros(2, 3, 32, 32))
    assert set(embedded) == {"features", "projection"}
    if method in MOMENTUM_METHODS:
        assert _changed(snapshots["momentum"], model.backbone_momentum), "no momentum update"
        assert not any(p.requires_grad for p in model.backbone_momentum.parameters())
        # After one step at momentum m: teacher = m * before + (1 - m) * student.
        m = metrics["train/momentum"].item()
        assert m == pytest.approx(model.hparams.momentum_base)
        before, student = snapshots["momentum"][0], next(model.backbone.parameters())
        torch.testing.assert_close(
            next(model.backbone_momentum.parameters()), m * before + (1 - m) * student
        )
    if method == "supcon":  # only the labeled half of the split was served
        assert run.datamodule.train_on == "labeled"
        split = LabelSplit.load(fake_split)
        assert run.datamodule.train_set.samples == split.labeled and len(split.labeled) == 25


def test_supcon_refuses_unlabeled_images_of_a_split(fake_root, fake_split, tmp_path):
    args = train_args(
        "supcon", fake_root, tmp_path, "--data.split", str(fake_split), "--data.train_on", "all"
    )
    with pytest.raises(ValueError, match="train_on"):
        cli(args)


@pytest.mark.parametrize("config", sorted(SMALL))
def test_gpu_config_parses(config, capsys):
    """The GPU recipes are valid configs of the CLI (the CPU ones ran above)."""
    with pytest.raises(SystemExit) as exit_info:
        cli(
            [
                "--project",
                "imagenette",
                "fit",
                "--config",
                str(CONFIGS / f"{config}.yaml"),
                "--print_config",
            ]
        )
    assert exit_info.value.code in (0, None)
    assert "class_path: ssl_core.methods." in capsys.readouterr().out
