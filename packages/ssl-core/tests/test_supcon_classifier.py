"""SupConClassifier: its loss trains every part, a frozen backbone stays as loaded,
``val/loss`` is logged, and a fit through the real ``train`` entry point from a weights
file (a freshly initialised torchvision ResNet-18 saved by the test, fc included)."""

from __future__ import annotations

import math

import pytest
import torch
import torchvision
from torch import nn

from ssl_core.backbones import Backbone
from ssl_core.cli import cli
from ssl_core.losses import SupConLoss
from ssl_core.methods import SupConClassifier

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Labeled training without a split; half the training images form the validation split,
# so a validation batch holds several images of each class (SupCon positives).
LABELED = ["--data.train_on", "labeled", "--data.val_fraction", "0.5"]
SMALL = [
    "--model",
    "ssl_core.methods.SupConClassifier",
    "--model.init_args.num_classes",
    "5",
    "--model.init_args.projection_dim",
    "4",
    "--model.init_args.hidden_dim",
    "16",
    "--model.init_args.knn_k",
    "5",
]


class TinyBackbone(nn.Module):
    """Conv + batch norm + pooling: what the method needs of a backbone, in microseconds."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def tiny_model(**kwargs) -> SupConClassifier:
    torch.manual_seed(0)
    kwargs = {"num_classes": 3, "projection_dim": 4, "hidden_dim": 16, **kwargs}
    return SupConClassifier(backbone=TinyBackbone(), gather_distributed=False, **kwargs)


def tiny_batch(per_class: int = 4, classes: int = 3) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Two noisy views of images whose colour depends on their class."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(classes).repeat_interleave(per_class)
    colour = torch.randn(classes, 3, 1, 1, generator=generator)[labels]
    image = colour + 0.5 * torch.randn(len(labels), 3, 8, 8, generator=generator)
    views = [image + 0.1 * torch.randn(image.shape, generator=generator) for _ in range(2)]
    return views, labels


def losses_of(model: SupConClassifier, views, labels) -> dict[str, torch.Tensor]:
    """``model.losses`` of views, as ``training_step`` calls it (one backbone pass)."""
    return model.losses(model.backbone(torch.cat(views)), labels, len(views))


def backbone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.backbone.state_dict().items()}


# ------------------------------------------------------------------- the loss
@pytest.mark.parametrize("ce_weight", [1.0, 2.5])
def test_loss_is_supcon_plus_weighted_cross_entropy(ce_weight):
    model = tiny_model(ce_weight=ce_weight, temperature=0.5).eval()  # BN: the same per view
    views, labels = tiny_batch()
    with torch.no_grad():
        out = losses_of(model, views, labels)
        z = torch.stack([model.project(model.backbone(v)) for v in views], dim=1)  # (B, 2, 4)
    logits = model.classifier(z.transpose(0, 1).reshape(-1, 4))
    ce = nn.functional.cross_entropy(logits, labels.repeat(2))
    supcon = SupConLoss(temperature=0.5)(z, labels)
    torch.testing.assert_close(out["loss_supcon"], supcon)
    torch.testing.assert_close(out["loss_ce"], ce)
    torch.testing.assert_close(out["loss"], supcon + ce_weight * ce)


def test_loss_decreases_and_every_part_gets_gradients():
    model = tiny_model(temperature=0.5).train()
    views, labels = tiny_batch()  # 3 classes x 4 images x 2 views
    losses_of(model, views, labels)["loss"].backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reaches {name}"
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = []
    for _ in range(30):
        optimizer.zero_grad()
        out = losses_of(model, views, labels)
        out["loss"].backward()
        optimizer.step()
        history.append({k: v.item() for k, v in out.items()})
    first, last = history[0], history[-1]
    assert last["loss"] < first["loss"] - 0.5 and last["loss_ce"] < 0.6 * first["loss_ce"]
    assert last["top1"] == 1.0
    # SupCon's minimum here: each class on one point, the 3 points a simplex (cosine
    # -1/2); each of the 24 anchors has 7 positives (logit 1/t) and 16 negatives (-1/2t).
    t = 0.5
    floor = math.log(7 * math.exp(1 / t) + 16 * math.exp(-0.5 / t)) - 1 / t
    assert floor <= last["loss_supcon"] < floor + 0.02 < first["loss_supcon"]


def test_without_cross_entropy_there_is_no_classifier_and_the_loss_is_supcon():
    model = tiny_model(ce_weight=0.0).train()
    views, labels = tiny_batch()
    out = losses_of(model, views, labels)
    assert model.classifier is None and "top1" not in out
    assert model.classify(views[0], model.backbone(views[0])) is None  # no val/top1 probe
    torch.testing.assert_close(out["loss"], out["loss_supcon"])


def test_frozen_backbone_gets_no_gradient_and_keeps_its_statistics():
    model = tiny_model(freeze_backbone=True)
    model.eval().train()  # as Lightning switches around validation
    assert model.training and not model.backbone.training
    before = backbone_state(model)
    head = model.projection_head.layers[0].weight.detach().clone()
    optimizer = model.configure_optimizers()  # default SGD on the parameter groups
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not optimized & {id(p) for p in model.backbone.parameters()}
    assert {id(p) for p in model.classifier.parameters()} <= optimized
    views, labels = tiny_batch()
    for _ in range(3):
        optimizer.zero_grad()
        losses_of(model, views, labels)["loss"].backward()
        optimizer.step()
    assert all(p.grad is None for p in model.backbone.parameters())
    after = backbone_state(model)
    assert all(torch.equal(after[k], v) for k, v in before.items())  # incl. BN running stats
    assert not torch.equal(model.projection_head.layers[0].weight, head)


# ------------------------------------------------------------ Backbone(keep_fc)
def test_keep_fc_reads_the_width_from_the_file(tmp_path):
    net = torchvision.models.resnet18(weights=None, num_classes=7)
    checkpoint = {"state_dict": {f"backbone.net.{k}": v for k, v in net.state_dict().items()}}
    torch.save(checkpoint, tmp_path / "last.ckpt")
    backbone = Backbone("resnet18", weights=str(tmp_path / "last.ckpt"), keep_fc=True).eval()
    assert backbone.num_features == 7
    torch.testing.assert_close(backbone.net.fc.weight, net.fc.weight)
    with torch.no_grad():
        assert backbone(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    assert Backbone("resnet18", keep_fc=True).num_features == 1000  # torchvision's
    assert Backbone("resnet18", weights=str(tmp_path / "last.ckpt")).num_features == 512


def test_keep_fc_without_fc_in_the_file_is_an_error(tmp_path):
    torch.save(Backbone("resnet18").net.state_dict(), tmp_path / "no_fc.pt")  # fc = Identity
    with pytest.raises(ValueError, match="no linear fc"):
        Backbone("resnet18", weights=str(tmp_path / "no_fc.pt"), keep_fc=True)


# ------------------------------------------------------- through `train fit`
def test_fit_logs_val_loss_and_test_top1(fake_root, tmp_path, tiny_args):
    run = cli([*tiny_args(fake_root, tmp_path, *SMALL, *LABELED), "--trainer.fast_dev_run", "1"])
    assert type(run.model) is SupConClassifier
    metrics = run.trainer.callback_metrics
    for key in ("train/loss_step", "val/loss", "val/loss_supcon", "val/loss_ce"):
        assert math.isfinite(metrics[key].item()), key
    assert metrics["val/loss_supcon"] > 0  # classes appear more than once in the batch
    torch.testing.assert_close(
        metrics["val/loss"], metrics["val/loss_supcon"] + metrics["val/loss_ce"]
    )
    assert {"val/top1", "val/knn_top1", "val/loss"} <= set(metrics)
    run.trainer.test(run.model, datamodule=run.datamodule)
    metrics = run.trainer.callback_metrics
    assert {"test/top1", "test/knn_top1", "test/loss"} <= set(metrics)


def test_fit_on_a_frozen_weights_file_with_its_fc(fake_root, tmp_path, tiny_args, monkeypatch):
    """A fresh torchvision ResNet-18 saved as a plain state dict (what a converted SimCLR
    ResNet-50 is), its ``fc`` output as the features, frozen: after a training step the
    backbone is still exactly the file, while the heads have trained."""
    torch.manual_seed(1)
    state = torchvision.models.resnet18(weights=None, num_classes=32).state_dict()
    torch.save(state, tmp_path / "resnet18.pth")
    snapshot = {}
    args = tiny_args(fake_root, tmp_path / "run", *SMALL, *LABELED)
    args += ["--model.backbone.init_args.weights", str(tmp_path / "resnet18.pth")]
    args += ["--model.backbone.init_args.keep_fc", "true"]
    args += ["--model.init_args.freeze_backbone", "true"]
    monkeypatch.setattr(
        SupConClassifier,
        "on_train_start",
        lambda self: snapshot.update(head=self.projection_head.layers[0].weight.detach().clone()),
    )
    run = cli([*args, "--trainer.fast_dev_run", "1"])
    model = run.model
    assert model.backbone.num_features == 32 and model.projection_head.layers[0].in_features == 32
    loaded = model.backbone.net.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())  # weights and BN stats
    assert not torch.equal(model.projection_head.layers[0].weight, snapshot["head"])
    assert math.isfinite(run.trainer.callback_metrics["val/loss"].item())
