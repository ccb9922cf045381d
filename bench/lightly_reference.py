"""Ours against lightly's reference code for the same method, side by side in one run.

Issue 12: when one of our self-supervised recipes ends below random init, is it our
method code or the budget? This runs, one after the other in one command, on the same
data, validation split and machine:

1. random init: ``train validate`` of the method's config (its untrained network);
2. ours: ``train fit`` of the method's config (``<method>-cpu`` by default);
3. lightly's: the same ``train fit`` (same backbone, views, batch, steps, kNN probe) with
   the model swapped for the method as lightly's Imagenette benchmark writes it
   (``docs/source/getting_started/benchmarks/imagenette_benchmark.py`` in lightly's
   repository: its heads, loss calls, momentum update and optimizer; SGD lr 0.06 x
   batch/256, momentum 0.9, weight decay 5e-4 on every parameter, cosine over the epochs).

and reports the final ``val/knn_top1`` of each (the validation split carved from the
training images: nothing here reads the test set)::

    uv run python bench/lightly_reference.py byol \
        --root ../shared/data/imagenette2-224 --out /tmp/ref-byol [-- extra train args]

The reference modules below are written from lightly's benchmark, not imported: the
benchmark is a script (it needs ``pytorch_lightning`` modules and lightly's own data
classes), so its method code cannot be called on our data. They reuse our
:class:`~ssl_core.methods.base.BaseMethod` only for the backbone and the online kNN probe,
which are the same for both sides by design. lightly has no SupCon, so there is no
reference for it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch
from lightly.loss import BarlowTwinsLoss, DINOLoss, NegativeCosineSimilarity, NTXentLoss
from lightly.models import utils
from lightly.models.modules import heads

from ssl_core.methods.base import BaseMethod

MOMENTUM = 0.99  # the benchmark's constant momentum of every teacher/key encoder


class _Reference(BaseMethod):
    """The benchmark's optimizer: SGD (0.06 x batch/256, momentum 0.9, weight decay
    5e-4 on all parameters, batch-norm and biases included) with a cosine over epochs."""

    def configure_optimizers(self):
        batch_size = self.trainer.datamodule.batch_size
        params = [p for p in self.parameters() if p.requires_grad]
        optim = torch.optim.SGD(params, lr=6e-2 * batch_size / 256, momentum=0.9, weight_decay=5e-4)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optim, self.trainer.max_epochs)
        return [optim], [cosine]

    def _log(self, loss: torch.Tensor, batch_size: int) -> None:
        self.log(
            "train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=batch_size
        )


class LightlyBYOL(_Reference):
    """BYOL as lightly's benchmark: 4096-wide heads, momentum 0.99 applied before the
    step's forward passes, the symmetric negative cosine."""

    def configure_models(self) -> None:
        d = self.backbone.num_features
        self.projection_head = heads.BYOLProjectionHead(d, 4096, 256)
        self.prediction_head = heads.BYOLPredictionHead(256, 4096, 256)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        utils.deactivate_requires_grad(self.backbone_momentum)
        utils.deactivate_requires_grad(self.projection_head_momentum)
        self.criterion = NegativeCosineSimilarity()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        utils.update_momentum(self.backbone, self.backbone_momentum, m=MOMENTUM)
        utils.update_momentum(self.projection_head, self.projection_head_momentum, m=MOMENTUM)
        x0, x1 = batch["views"][:2]
        p0 = self.prediction_head(self.projection_head(self.backbone(x0)))
        p1 = self.prediction_head(self.projection_head(self.backbone(x1)))
        with torch.no_grad():
            z0 = self.projection_head_momentum(self.backbone_momentum(x0))
            z1 = self.projection_head_momentum(self.backbone_momentum(x1))
        loss = 0.5 * (self.criterion(p0, z1) + self.criterion(p1, z0))
        self._log(loss, len(x0))
        return loss


class LightlyMoCo(_Reference):
    """MoCo as lightly's benchmark: 2048-wide head to 128, ``NTXentLoss`` (temperature
    0.1, queue 4096), momentum 0.99, symmetric loss as two criterion calls (so the
    second call's queue holds the first call's keys; kept: this is the reference)."""

    def configure_models(self) -> None:
        self.projection_head = heads.MoCoProjectionHead(self.backbone.num_features, 2048, 128)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        utils.deactivate_requires_grad(self.backbone_momentum)
        utils.deactivate_requires_grad(self.projection_head_momentum)
        self.criterion = NTXentLoss(temperature=0.1, memory_bank_size=(4096, 128))

    def _pair(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        q = self.projection_head(self.backbone(query))
        with torch.no_grad():
            k = self.projection_head_momentum(self.backbone_momentum(key))
        return self.criterion(q, k)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        utils.update_momentum(self.backbone, self.backbone_momentum, MOMENTUM)
        utils.update_momentum(self.projection_head, self.projection_head_momentum, MOMENTUM)
        x0, x1 = batch["views"][:2]
        loss = 0.5 * (self._pair(x0, x1) + self._pair(x1, x0))
        self._log(loss, len(x0))
        return loss


class LightlyBarlowTwins(_Reference):
    """Barlow Twins as lightly's benchmark: 2048-wide projector, ``BarlowTwinsLoss``
    (lambda 5e-3), plain SGD (no LARS)."""

    def configure_models(self) -> None:
        self.projection_head = heads.BarlowTwinsProjectionHead(
            self.backbone.num_features, 2048, 2048
        )
        self.criterion = BarlowTwinsLoss()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x0, x1 = batch["views"][:2]
        z0 = self.projection_head(self.backbone(x0))
        z1 = self.projection_head(self.backbone(x1))
        loss = self.criterion(z0, z1)
        self._log(loss, len(x0))
        return loss


class LightlyDINO(_Reference):
    """DINO as lightly's benchmark: batch-norm heads (2048, bottleneck 256, 2048 out), a
    teacher head initialised on its own (not a copy), momentum 0.99, ``DINOLoss`` with
    its defaults (teacher temperature warmed from 0.04 to 0.04 over 30 epochs), the
    teacher on the first two views, the student on all."""

    def configure_models(self) -> None:
        d = self.backbone.num_features
        self.head = heads.DINOProjectionHead(d, 2048, 256, 2048, batch_norm=True)
        self.teacher_backbone = copy.deepcopy(self.backbone)
        self.teacher_head = heads.DINOProjectionHead(d, 2048, 256, 2048, batch_norm=True)
        utils.deactivate_requires_grad(self.teacher_backbone)
        utils.deactivate_requires_grad(self.teacher_head)
        self.criterion = DINOLoss(output_dim=2048)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        utils.update_momentum(self.backbone, self.teacher_backbone, m=MOMENTUM)
        utils.update_momentum(self.head, self.teacher_head, m=MOMENTUM)
        views = batch["views"]
        with torch.no_grad():
            teacher = [self.teacher_head(self.teacher_backbone(v)) for v in views[:2]]
        student = [self.head(self.backbone(v)) for v in views]
        loss = self.criterion(teacher, student, epoch=self.current_epoch)
        self._log(loss, len(views[0]))
        return loss


REFERENCES = {
    "byol": LightlyBYOL,
    "moco": LightlyMoCo,
    "barlowtwins": LightlyBarlowTwins,
    "dino": LightlyDINO,
}


def final_knn(cli) -> float:
    """The last logged ``val/knn_top1`` of a finished ``train`` run."""
    return float(cli.trainer.callback_metrics["val/knn_top1"])


def main(argv: list[str] | None = None) -> dict:
    from ssl_core.cli import cli

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("method", choices=sorted(REFERENCES))
    parser.add_argument("--project", default="imagenette")
    parser.add_argument("--root", required=True, help="the project's data folder")
    parser.add_argument("--config", help="our config (default: <method>-cpu)")
    parser.add_argument("--out", type=Path, required=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)  # after it: more train arguments
    args, extra = parser.parse_args(argv[:cut]), argv[cut + 1 :]
    config = args.config or f"{args.method}-cpu"
    common = ["--config", config, "--data.root", args.root, *extra]
    # bench/ is on sys.path (below, or the caller's); the backbone stays the config's
    reference = f"lightly_reference.{REFERENCES[args.method].__name__}"
    runs = {
        "random init": ["validate", *common],
        "ours": ["fit", *common],
        "lightly reference": ["fit", *common, "--model.class_path", reference],
    }
    results = {}
    for name, run_args in runs.items():
        root = args.out / name.replace(" ", "-")
        start = time.time()
        finished = cli(
            ["--project", args.project, *run_args, "--trainer.default_root_dir", str(root)]
        )
        results[name] = {
            "model": type(finished.model).__name__,
            "backbone": finished.model.backbone.name,
            "val_knn_top1": final_knn(finished),
            "steps": int(finished.trainer.global_step),
            "seconds": round(time.time() - start, 1),
        }
        print(f"{name}: {results[name]}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "side_by_side.json").write_text(json.dumps(results, indent=1))
    print(f"\n| {args.method} ({config}) | val kNN top-1 | steps | seconds |\n|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['val_knn_top1']:.3f} | {r['steps']} | {r['seconds']} |")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the reference classes
    main()
