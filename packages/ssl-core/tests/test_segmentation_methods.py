"""Unit tests of the segmentation methods' pieces, on synthetic tensors: CutMix of images
and targets, confidence masking and padding, the UniMatch loss normalisation, the
feature-perturbation stream, Mean Teacher's EMA, whole-image and sliding-window
inference, IoU/Dice against hand computations. (Every method's training step runs in
``test_segmentation_train.py``, through ``train``.)"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.segmentation import (
    FixMatchSegmentation,
    MeanTeacherSegmentation,
    SegmentationLoss,
    SupervisedSegmentation,
    UniMatch,
)
from ssl_core.segmentation.cutmix import cutmix, cutmix_boxes, mixed_targets
from ssl_core.segmentation.inference import (
    pad_to_multiple,
    padded_probabilities,
    sliding_window_probabilities,
    window_starts,
)
from ssl_core.segmentation.losses import pseudo_label_loss
from ssl_core.segmentation.metrics import (
    SegmentationScores,
    class_counts,
    dataset_scores,
    image_scores,
)

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {
    "num_classes": 2,
    "encoder_name": "tu-mobilenetv3_small_050",
    "model_kwargs": {"decoder_channels": (16, 8, 8, 8, 8)},
}


def _semi_batch(channels: int = 1, b: int = 2, size: int = 32) -> dict:
    mask = torch.randint(0, 2, (b, size, size))
    mask[:, :3] = 255  # padding rows
    ignore = torch.zeros(b, size, size, dtype=torch.uint8)
    ignore[:, -4:] = 255
    return {
        "labeled": {"image": torch.randn(b, channels, size, size), "mask": mask},
        "unlabeled": {
            "views": [torch.randn(b, channels, size, size) for _ in range(3)],
            "ignore": ignore,
        },
    }


# ------------------------------------------------------------------------ CutMix
def test_cutmix_boxes_follow_the_recipe():
    g = torch.Generator().manual_seed(0)
    boxes = cutmix_boxes(400, 40, 60, p=0.5, generator=g)
    has_box = boxes.flatten(1).any(1)
    assert 0.4 < has_box.float().mean() < 0.6  # p = 0.5
    areas = boxes[has_box].flatten(1).float().mean(1)
    assert areas.min() > 0.005 and areas.max() <= 0.4 + 1e-6  # U(0.02, 0.4), int sides
    for box in boxes[has_box][:50]:  # one axis-aligned rectangle each
        rows, cols = box.any(1).nonzero(), box.any(0).nonzero()
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert box.sum() == h * w
    assert not cutmix_boxes(5, 8, 8, p=0.0).any()


def test_cutmix_of_images_and_pseudo_labels():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    pseudo = torch.tensor([[[0] * 5] * 4, [[1] * 5] * 4])
    confidence = torch.stack([torch.full((4, 5), 0.9), torch.full((4, 5), 0.3)])
    ignore = torch.zeros(2, 4, 5, dtype=torch.uint8)
    ignore[1, :, -1] = 255
    boxes = torch.zeros(2, 4, 5, dtype=torch.bool)
    boxes[0, 1:3, 2:5] = True  # image 0 gets a box from image 1, image 1 none

    mixed = cutmix(x, x.flip(0), boxes)
    expected = x.clone()
    expected[0, :, 1:3, 2:5] = x[1, :, 1:3, 2:5]
    assert torch.equal(mixed, expected)

    p, c, i = mixed_targets(pseudo, confidence, ignore, boxes)
    assert torch.equal(p[0, 1:3, 2:5], torch.ones(2, 3, dtype=torch.long))  # partner's labels
    assert p[0].sum() == 6 and torch.equal(p[1], pseudo[1])
    assert torch.allclose(c[0, 1:3, 2:5], torch.tensor(0.3)) and c[0, 0, 0] == 0.9
    assert i[0, 1, 4] == 255 and i[0, 0, 4] == 0 and i[0].sum() == 2 * 255  # partner's padding


# ----------------------------------------------------------------------- losses
def test_pseudo_label_loss_masks_confidence_and_padding_and_divides_by_valid_pixels():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    pseudo = torch.randint(0, 3, (2, 4, 4))
    confidence = torch.rand(2, 4, 4)
    ignore = torch.zeros(2, 4, 4, dtype=torch.uint8)
    ignore[0, 0] = 255  # 4 padding pixels
    loss = pseudo_label_loss(logits, pseudo, confidence, ignore, threshold=0.5)

    total, kept = 0.0, 0
    for b in range(2):
        for y in range(4):
            for x in range(4):
                if ignore[b, y, x] == 255 or confidence[b, y, x] < 0.5:
                    continue
                kept += 1
                total += F.cross_entropy(logits[b, :, y, x][None], pseudo[b, y, x][None])
    assert 0 < kept < 28
    assert torch.allclose(loss, total / 28)  # 32 pixels - 4 padding, not / kept
    loss.backward()
    masked = (confidence < 0.5) | (ignore == 255)
    assert (logits.grad.abs().sum(1)[masked] == 0).all()


def test_pseudo_label_loss_is_zero_when_all_padding():
    logits = torch.randn(1, 2, 3, 3)
    ignore = torch.full((1, 3, 3), 255, dtype=torch.uint8)
    loss = pseudo_label_loss(
        logits, torch.zeros(1, 3, 3, dtype=torch.long), torch.ones(1, 3, 3), ignore, 0.5
    )
    assert loss.item() == 0.0


def test_supervised_loss_ignores_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 6, 6)
    target = torch.randint(0, 2, (2, 6, 6))
    padded = target.clone()
    padded[:, :, 4:] = 255
    other_logits = logits.clone()
    other_logits[:, :, :, 4:] = 100.0  # anything under padding does not count
    ce = SegmentationLoss(dice_weight=0.0)
    assert torch.allclose(ce(logits, padded), ce(other_logits, padded))
    assert torch.allclose(ce(logits, padded), F.cross_entropy(logits[..., :4], target[..., :4]))
    both = SegmentationLoss(dice_weight=1.0)
    assert torch.allclose(both(logits, padded), both(other_logits, padded))
    assert torch.isfinite(both(logits, torch.full_like(target, 255)))


# ---------------------------------------------------------------------- methods
def test_mask_ratio_counts_confident_non_padding_pixels(monkeypatch):
    model = FixMatchSegmentation(in_channels=1, threshold=0.9, **TINY)
    logged = {}
    monkeypatch.setattr(model, "log", lambda name, value, **kw: logged.setdefault(name, value))
    # a network whose weak-view confidence is 0.95 on the left half, 0.6 on the right
    probs = torch.zeros(2, 2, 32, 32)
    probs[:, 1, :, :16], probs[:, 0, :, :16] = 0.95, 0.05
    probs[:, 1, :, 16:], probs[:, 0, :, 16:] = 0.6, 0.4
    real = model.network

    class Fake(nn.Module):
        def forward(self, x):
            return probs.log() if not torch.is_grad_enabled() else real(x)

    model.network = Fake()
    batch = _semi_batch()
    model.training_step(batch, 0)
    # left half confident; the last 4 rows are padding: 16 * 28 / (32 * 28)
    assert float(logged["train/mask_ratio"]) == pytest.approx(0.5)


def test_fixmatch_pseudo_labels_from_an_ema_teacher(monkeypatch):
    assert not hasattr(FixMatchSegmentation(in_channels=1, **TINY), "teacher")  # as [0]
    model = FixMatchSegmentation(in_channels=1, threshold=0.9, teacher_decay=0.99, **TINY)
    optimized = {id(p) for g in model.parameter_groups() for p in g["params"]}
    assert not optimized & {id(p) for p in model.teacher.parameters()}
    assert model.ema_pairs() == [(model.network, model.teacher)]
    assert model.momentum(step=0) == pytest.approx(0.5)  # the Mean Teachers' warmup
    assert model.momentum(step=999) == pytest.approx(0.99)
    assert model.inference_network() is model.network  # evaluated: the student
    logged = {}
    monkeypatch.setattr(model, "log", lambda name, value, **kw: logged.setdefault(name, value))
    probs = torch.zeros(2, 2, 32, 32)  # the teacher: class 1 at 0.99 everywhere
    probs[:, 1], probs[:, 0] = 0.99, 0.01

    class Teacher(nn.Module):
        def forward(self, x):
            return probs.log()

    model.teacher = Teacher()
    model.training_step(_semi_batch(), 0)
    # every non-padding pixel passes: the teacher's confidences, not the untrained student's
    assert float(logged["train/mask_ratio"]) == 1.0
    assert float(logged["train/loss_unlabeled"].detach()) > 0


def test_fixmatch_unlabeled_weight_ramps_up(monkeypatch):
    torch.manual_seed(0)
    model = FixMatchSegmentation(in_channels=1, threshold=0.0, rampup=0.5, **TINY)
    model._trainer = SimpleNamespace(estimated_stepping_batches=100, global_step=0)
    logged = {}
    monkeypatch.setattr(model, "log", lambda name, value, **kw: logged.setdefault(name, value))
    loss = model.training_step(_semi_batch(), 0)
    weight = logged["train/unlabeled_weight"]
    assert weight == pytest.approx(math.exp(-5))  # step 0 of a 50-step ramp
    l_x, l_u = (float(logged[f"train/loss_{k}"].detach()) for k in ("labeled", "unlabeled"))
    assert l_u > 0 and loss.item() == pytest.approx((l_x + weight * l_u) / 2, rel=1e-5)
    model._trainer.global_step = 50
    assert model.unlabeled_weight() == 1.0


def test_unimatch_feature_perturbation_decodes_weak_features_in_the_same_pass():
    torch.manual_seed(0)
    model = UniMatch(in_channels=4, fp_dropout=0.5, **TINY).eval()
    x = torch.randn(5, 4, 32, 32)
    logits, logits_fp = model.forward_with_perturbation(x, start=2)
    assert logits.shape == (5, 2, 32, 32) and logits_fp.shape == (3, 2, 32, 32)
    assert torch.allclose(logits, model.network(x), atol=1e-5)  # clean stream unchanged
    assert not torch.allclose(logits_fp, logits[2:])  # dropout perturbs the features
    model.hparams.fp_dropout = 0.0
    _, unperturbed = model.forward_with_perturbation(x, start=2)
    assert torch.allclose(unperturbed, logits[2:], atol=1e-5)


def test_deeplabv3plus_perturbation_and_odd_sizes():
    model = UniMatch(
        arch="deeplabv3plus", encoder_name="tu-mobilenetv3_small_050", num_classes=2
    ).eval()
    logits, logits_fp = model.forward_with_perturbation(torch.randn(3, 3, 32, 32), start=1)
    assert logits.shape == (3, 2, 32, 32) and logits_fp.shape == (2, 2, 32, 32)
    assert model.predict_probabilities(torch.randn(1, 3, 37, 51)).shape == (1, 2, 37, 51)


def test_mean_teacher_ema_and_evaluation_network():
    model = MeanTeacherSegmentation(in_channels=1, ema_decay=0.9, **TINY)
    teacher = list(model.teacher.parameters())
    assert all(not p.requires_grad for p in teacher)
    optimized = {id(p) for g in model.parameter_groups() for p in g["params"]}
    assert not optimized & {id(p) for p in teacher}
    with torch.no_grad():
        for p in model.network.parameters():
            p.add_(1.0)
    before = [p.clone() for p in teacher]
    assert model.momentum(step=99) == pytest.approx(0.9)
    m = model.momentum(step=0)  # no trainer: the hook runs at global_step 0
    model.on_after_optimizer_step()
    for p_t, p_0, p_s in zip(teacher, before, model.network.parameters(), strict=True):
        assert torch.allclose(p_t, m * p_0 + (1 - m) * p_s, atol=1e-6)
    assert model.inference_network() is model.teacher


def test_setup_refuses_data_that_does_not_fit_the_network():
    model = SupervisedSegmentation(in_channels=1, **TINY)
    for facts, message in (
        ({"num_classes": 3}, "model.num_classes is 2"),
        ({"source": SimpleNamespace(channels=4)}, "data has 4 channels"),
    ):
        model._trainer = SimpleNamespace(datamodule=SimpleNamespace(**facts))
        with pytest.raises(ValueError, match=message):
            model.setup("fit")
    model._trainer = SimpleNamespace(datamodule=SimpleNamespace(num_classes=2, ignore_index=255))
    model.setup("fit")


def test_network_takes_its_classes_from_the_data_or_the_weights():
    """``num_classes`` unset: the network (and Mean Teacher's teacher) is built at setup
    for the datamodule's classes, and the count is saved in hparams; a model with no
    data to size it gets the classes of the weights it loads."""
    tiny = {k: v for k, v in TINY.items() if k != "num_classes"}
    model = MeanTeacherSegmentation(in_channels=1, **tiny)
    assert not hasattr(model, "network")
    model._trainer = SimpleNamespace(datamodule=SimpleNamespace(num_classes=3, ignore_index=255))
    model.setup("fit")
    assert model.hparams.num_classes == 3
    model.eval()
    assert model(torch.randn(1, 1, 32, 32)).shape == (1, 3, 32, 32)
    assert model.teacher(torch.randn(1, 1, 32, 32)).shape == (1, 3, 32, 32)

    fresh = MeanTeacherSegmentation(in_channels=1, **tiny)
    fresh.load_state_dict(model.state_dict())
    assert fresh.num_classes == 3
    for mine, theirs in zip(fresh.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs)


def test_decoder_lr_scale_gives_the_decoder_its_own_learning_rate():
    model = SupervisedSegmentation(
        in_channels=1,
        decoder_lr_scale=10.0,
        optimizer=lambda groups: torch.optim.SGD(groups, lr=0.01),
        **TINY,
    )
    opt = model.configure_optimizers()
    encoder = {id(p) for p in model.network.encoder.parameters()}
    for group in opt.param_groups:
        expected = 0.1 if group["name"].endswith("decoder") else 0.01
        assert group["lr"] == pytest.approx(expected)
        assert all((id(p) in encoder) == group["name"].endswith("encoder") for p in group["params"])


# -------------------------------------------------------------------- inference
def test_whole_image_inference_returns_the_input_size():
    model = SupervisedSegmentation(in_channels=3, **TINY).eval()
    for size in [(37, 51), (1, 60)]:  # odd sides, a side shorter than the padding
        probs = model.predict_probabilities(torch.randn(1, 3, *size))
        assert probs.shape == (1, 2, *size)
        assert torch.allclose(probs.sum(1), torch.ones(1, *size), atol=1e-5)


def test_padding_to_the_stride():
    x = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    padded, size = pad_to_multiple(x, 4, "reflect")
    assert padded.shape == (1, 2, 8, 8) and size == (5, 7)
    assert torch.equal(padded[..., :5, :7], x) and torch.equal(padded[..., 5, :7], x[..., 3, :])
    zeros, _ = pad_to_multiple(x, 4, "constant")
    assert zeros[..., 5:, :].abs().sum() == 0
    tiny, _ = pad_to_multiple(torch.ones(1, 1, 1, 3), 32, "reflect")  # falls back to replicate
    assert tiny.shape == (1, 1, 32, 32)


def test_window_starts_cover_the_side():
    assert window_starts(100, 100, 75) == [0]
    assert window_starts(250, 100, 75) == [0, 75, 150]
    assert window_starts(101, 64, 48) == [0, 37]


def test_sliding_window_equals_padded_inference():
    torch.manual_seed(0)
    model = SupervisedSegmentation(in_channels=3, **TINY).eval()
    net = model.network
    small = torch.randn(1, 3, 37, 51)
    with torch.no_grad():  # image within one window: the same computation
        assert torch.allclose(
            sliding_window_probabilities(net, small, window=64),
            padded_probabilities(net, small),
        )
        # a large image, a pixel-wise network: windows change nothing at all
        pointwise = nn.Conv2d(3, 4, 1)
        big = torch.randn(2, 3, 150, 200)
        windowed = sliding_window_probabilities(pointwise, big, window=64, overlap=0.5)
        assert torch.allclose(windowed, pointwise(big).softmax(1), atol=1e-6)
        # the module's own path: a window smaller than the image, any size back
        model.hparams.window = 32
        assert model.predict_probabilities(torch.randn(1, 3, 37, 51)).shape == (1, 2, 37, 51)


# ---------------------------------------------------------------------- metrics
def test_iou_and_dice_against_a_hand_computation():
    pred = torch.tensor([[[1, 1, 0], [0, 1, 0]], [[0, 0, 0], [0, 0, 0]]])
    target = torch.tensor([[[1, 0, 0], [1, 1, 255]], [[0, 0, 0], [0, 0, 0]]])
    counts = class_counts(pred, target, num_classes=2)
    # image 0, foreground: TP 2 (0,0),(1,1); FP 1 (0,1); FN 1 (1,0); (1,2) ignored
    assert counts[0, 1].tolist() == [2, 1, 1]
    assert counts[1, 1].tolist() == [0, 0, 0]
    scores = dataset_scores(counts.sum(0))
    assert scores["iou"] == pytest.approx(2 / 4) and scores["dice"] == pytest.approx(4 / 6)
    iou, dice = image_scores(counts)
    assert iou.tolist() == pytest.approx([0.5, 1.0])  # empty truth, empty prediction: 1
    assert dice.tolist() == pytest.approx([4 / 6, 1.0])

    metric = SegmentationScores(num_classes=2)
    metric.update(pred[:1], target[:1])
    metric.update(pred[1:], target[1:])
    out = metric.compute()
    assert float(out["iou"]) == pytest.approx(0.5) and float(out["image_iou"]) == pytest.approx(
        0.75
    )


def test_multiclass_foreground_is_the_mean_over_foreground_classes():
    pred = torch.tensor([[[1, 2, 2, 0]]])
    target = torch.tensor([[[1, 2, 0, 0]]])
    scores = dataset_scores(class_counts(pred, target, 3).sum(0))
    assert scores["iou"] == pytest.approx((1.0 + 0.5) / 2)  # class 1: 1/1, class 2: 1/2
