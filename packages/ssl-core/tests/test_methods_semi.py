"""Unit tests of the semi-supervised methods' pieces: FixMatch's mask, Mean Teacher's
EMA and ramp-up, Pseudo-Label's ramp-up, the weak/strong views, pseudo-labeling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ssl_core.backbones import Backbone
from ssl_core.evaluate.metrics import spread_labels
from ssl_core.knn import knn_scores
from ssl_core.methods import FineTune, MeanTeacher
from ssl_core.methods.fixmatch import FixMatchLoss
from ssl_core.pseudolabels import pseudo_label_split
from ssl_core.splits import make_split
from ssl_core.transforms import WeakStrongTransform


def _logits_with_confidence(confidences: list[float], num_classes: int = 4) -> torch.Tensor:
    """Logits whose softmax has max probability ``c`` on class ``i % C`` for row i."""
    rows = []
    for i, c in enumerate(confidences):
        p = torch.full((num_classes,), (1 - c) / (num_classes - 1))
        p[i % num_classes] = c
        rows.append(p.log())
    return torch.stack(rows)


@pytest.mark.parametrize("threshold", [0.5, 0.95])
def test_fixmatch_mask_keeps_only_confident_weak_predictions(threshold):
    confidences = [0.3, 0.6, 0.949, 0.95, 0.99]
    weak = _logits_with_confidence(confidences)
    strong = torch.randn(len(confidences), 4, requires_grad=True)
    loss, mask = FixMatchLoss(threshold=threshold)(weak, strong)

    expected_mask = torch.tensor([float(c >= threshold - 1e-6) for c in confidences])
    assert torch.equal(mask, expected_mask)
    pseudo = weak.argmax(dim=1)
    reference = sum(
        F.cross_entropy(strong[i : i + 1], pseudo[i : i + 1]) for i in range(5) if expected_mask[i]
    ) / len(confidences)  # mean over all unlabeled images, as in the paper
    assert torch.allclose(loss, torch.as_tensor(reference))
    loss.backward()  # gradient reaches the strong view only
    assert strong.grad is not None


def test_fixmatch_loss_is_zero_and_no_gradient_to_weak_when_nothing_is_confident():
    weak = torch.zeros(3, 10, requires_grad=True)  # uniform: confidence 0.1
    strong = torch.randn(3, 10, requires_grad=True)
    loss, mask = FixMatchLoss(threshold=0.95)(weak, strong)
    assert mask.sum() == 0 and loss.item() == 0.0
    loss.backward()
    assert weak.grad is None  # the weak view's prediction is a target: no gradient
    assert torch.equal(strong.grad, torch.zeros_like(strong))  # every image masked out


def test_fixmatch_gradient_reaches_only_the_strong_view():
    weak = _logits_with_confidence([0.99, 0.99]).requires_grad_(True)
    strong = torch.randn(2, 4, requires_grad=True)
    loss, _ = FixMatchLoss(threshold=0.95)(weak, strong)
    loss.backward()
    assert weak.grad is None and strong.grad.abs().sum() > 0


def test_mean_teacher_ema_update():
    model = MeanTeacher(num_classes=3, ema_decay=0.9, backbone=Backbone("resnet18"))
    teacher_params = list(model.teacher_backbone.parameters()) + list(
        model.teacher_classifier.parameters()
    )
    assert all(not p.requires_grad for p in teacher_params)
    optimized = {id(p) for g in model.parameter_groups() for p in g["params"]}
    assert not optimized & {id(p) for p in teacher_params}  # the optimizer never sees the teacher

    with torch.no_grad():  # student moves away from the teacher
        for p in list(model.backbone.parameters()) + list(model.classifier.parameters()):
            p.add_(torch.randn_like(p))
    before = [p.clone() for p in teacher_params]
    student = [
        p.clone() for p in list(model.backbone.parameters()) + list(model.classifier.parameters())
    ]

    assert model.momentum(step=999) == pytest.approx(0.9)  # past the warmup: ema_decay
    assert model.momentum(step=0) == 0.5  # after the first step: half and half
    model.on_after_optimizer_step()  # no trainer: global_step 0
    for t, t0, s in zip(teacher_params, before, student, strict=True):
        assert torch.allclose(t, 0.5 * t0 + 0.5 * s, atol=1e-6)


def test_linear_probe_freezes_the_backbone():
    model = FineTune(num_classes=3, freeze_backbone=True, backbone=Backbone("resnet18"))
    trainable = [p for g in model.parameter_groups() for p in g["params"]]
    assert {id(p) for p in trainable} == {id(p) for p in model.classifier.parameters()}
    model.train()
    assert not model.backbone.training and model.classifier.training


@pytest.mark.parametrize("channels", [3, 1])
def test_weak_strong_views_are_uint8(channels):
    image = np.random.default_rng(0).integers(0, 256, (50, 70, channels), dtype=np.uint8)
    views = WeakStrongTransform(size=32, channels=channels, weak_views=2, strong_views=1)(image)
    assert len(views) == 3
    assert all(v.dtype == torch.uint8 and v.shape == (channels, 32, 32) for v in views)


def _clusters(n_per_class: int = 20, num_classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = np.eye(num_classes, 8) * 5
    x = np.concatenate([c + rng.normal(0, 0.3, (n_per_class, 8)) for c in centers]).astype(
        np.float32
    )
    y = np.repeat(np.arange(num_classes), n_per_class)
    ids = np.array([f"train/c{c}/{i:03d}.png" for c, i in zip(y, range(len(y)), strict=True)])
    return x, y, ids


def test_knn_votes_and_spreading_recover_clustered_labels():
    x, y, _ = _clusters()
    probs = knn_scores(x, x[::5], y[::5], 3, k=3)
    assert np.allclose(probs.sum(1), 1) and (probs.argmax(1) == y).all()
    labels = np.where(np.arange(len(y)) % 5 == 0, y, -1)
    dist = spread_labels(x, labels, 3, n_neighbors=5)
    assert (dist.argmax(1) == y).all()


@pytest.mark.parametrize("method", ["knn", "spreading"])
def test_pseudo_label_split_keeps_the_given_labels_and_the_fingerprint(method):
    x, y, ids = _clusters()
    split = make_split("toy", ids, y, fraction=0.2, seed=0)
    new, stats = pseudo_label_split(split, ids, x, method=method, threshold=0.5, k=5)
    assert new.fingerprint == split.fingerprint and new.num_images == split.num_images
    assert set(split.labeled) <= set(new.labeled)  # the split's own labels never change
    assert stats["pseudo_labeled"] == len(new.labeled) - len(split.labeled) > 0
    truth = dict(zip(ids, y, strict=True))
    assert all(truth[p] == label for p, label in new.labeled)  # clusters: all correct
    assert set(new.unlabeled) | {p for p, _ in new.labeled} | set(new.validation) == set(ids)
    assert new.validation == split.validation  # the validation split is never pseudo-labeled
    assert new.source.startswith("pseudo-labels")

    strict, _ = pseudo_label_split(split, ids, x, method=method, threshold=1.01)
    assert strict.labeled == split.labeled and strict.unlabeled == split.unlabeled
