"""The base LightningModule of every segmentation method: an SMP network, CE + Dice,
whole-image inference and foreground IoU and Dice (logged as ``val/iou``, ``val/dice``,
``val/image_iou``, ``val/image_dice``, ``val/loss``; ``test/...``). Methods override
``configure_models``, ``inference_network`` and ``training_step``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from ssl_core.segmentation.inference import PadMode, sliding_window_probabilities
from ssl_core.segmentation.losses import SegmentationLoss
from ssl_core.segmentation.metrics import SegmentationScores
from ssl_core.segmentation.weights import load_encoder_weights
from ssl_core.task import TaskModule, default_optimizer, require


def create_network(
    arch: str,
    encoder_name: str,
    in_channels: int,
    num_classes: int,
    model_kwargs: dict[str, Any] | None = None,
) -> nn.Module:
    """``smp.create_model`` with no downloaded weights (``encoder_weights=None``)."""
    kwargs = dict(model_kwargs or {})
    if kwargs.pop("encoder_weights", None) is not None:
        raise ValueError(
            "model_kwargs.encoder_weights: SMP's hub weights are not used here; give a local "
            "file as encoder_weights"
        )
    return smp.create_model(arch, encoder_name, None, in_channels, num_classes, **kwargs)


def scaled_lr(build, groups: list[dict]) -> torch.optim.Optimizer:
    """``build(groups)`` with each group's lr times its ``lr_scale`` (before a scheduler)."""
    optimizer = build(groups)
    for group in optimizer.param_groups:
        group["lr"] *= group.get("lr_scale", 1.0)
    return optimizer


class SegmentationTask(TaskModule):
    """An SMP network, CE + Dice, whole-image inference and foreground IoU/Dice.

    Args:
        arch: SMP architecture (``unet``, ``deeplabv3plus``, ``fpn``, ``segformer``, ...).
        encoder_name: SMP encoder (``resnet18``, ...) or timm's ``tu-<name>`` (``tu-resnet18``).
        encoder_weights: Local file of encoder weights (:mod:`.weights`); ``None``: random init.
        in_channels: Image channels (1 grey, 3 RGB, 4, ...).
        num_classes: Classes including the background (2 for binary); ``None``: the data's.
        model_kwargs: More ``smp.create_model`` arguments (e.g. ``decoder_channels``).
        ignore_index: Label of pixels to leave out of losses and metrics (padding).
        dice_weight: Weight of the Dice term of the supervised loss (0: CE only).
        decoder_lr_scale: Decoder and head lr relative to the encoder's (UniMatch: 10).
        window: Side in px of inference's sliding window; ``None``: the whole image at once.
        window_overlap: Share of a window's side that neighbouring windows overlap.
        pad_mode: Padding of images / windows to ``stride``: ``reflect`` or ``constant`` (0).
        stride: Side multiple the network needs (32 for SMP's 5-stage encoders).
        **kwargs: :class:`~ssl_core.task.TaskModule` arguments (optimizer, lr_scheduler, ...).
    """

    #: foreground IoU and Dice over the test set (dataset-level: ``SegmentationScores``)
    test_metrics = {"test/iou": "test_iou", "test/dice": "test_dice"}
    head_key = "network.segmentation_head.0.weight"

    def __init__(
        self,
        arch: str = "unet",
        encoder_name: str = "resnet18",
        encoder_weights: str | None = None,
        in_channels: int = 3,
        num_classes: int | None = None,
        model_kwargs: dict[str, Any] | None = None,
        ignore_index: int = 255,
        dice_weight: float = 1.0,
        decoder_lr_scale: float = 1.0,
        window: int | None = None,
        window_overlap: float = 0.25,
        pad_mode: PadMode = "reflect",
        stride: int = 32,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        # with the arguments of every subclass's __init__ (Lightning walks up the frames)
        self.save_hyperparameters(ignore=["optimizer", "lr_scheduler"])
        self.ignore_index = ignore_index
        self.supervised_loss = SegmentationLoss(ignore_index, dice_weight)
        if decoder_lr_scale != 1:
            self.optimizer = partial(scaled_lr, self.optimizer or default_optimizer)
        self.set_num_classes(num_classes)

    def configure_head(self) -> None:
        """The network, metrics and ``configure_models``, once ``num_classes`` is known."""
        h = self.hparams
        self.network = create_network(
            h.arch, h.encoder_name, h.in_channels, self.num_classes, h.model_kwargs
        )
        if h.encoder_weights is not None:
            done = load_encoder_weights(self.network.encoder, h.encoder_weights)
            adapted = f"; first conv adapted to {h.in_channels} channels" if done["adapted"] else ""
            left = f"; left out {len(done['left_out'])} classifier keys" if done["left_out"] else ""
            rank_zero_info(f"Encoder weights from {h.encoder_weights}{adapted}{left}")
        self.scores = SegmentationScores(self.num_classes, self.ignore_index)
        self.configure_models()

    def configure_models(self) -> None:
        """Create what a method adds to ``self.network`` (teachers, ...)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, H, W)`` of images ``(B, C, H, W)``, sides divisible by ``stride``."""
        return self.network(x)

    def inference_network(self) -> nn.Module:
        """The network of validation, test and predict (Mean Teacher: the teacher)."""
        return self.network

    @torch.no_grad()
    def predict_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(B, K, H, W)`` of images ``(B, C, H, W)`` of any size."""
        h, net = self.hparams, self.inference_network()
        return sliding_window_probabilities(
            net, images, h.window, h.window_overlap, h.stride, h.pad_mode
        )

    def parameter_groups(self) -> list[dict]:
        """TaskModule's groups, split into encoder and decoder + head (``lr_scale``)."""
        groups = super().parameter_groups()
        scale = self.hparams.decoder_lr_scale
        if scale == 1:
            return groups
        encoder = {id(p) for p in self.network.encoder.parameters()}
        split = []
        for g in groups:
            split.append({**g, "name": f"{g['name']}_encoder"})
            split[-1]["params"] = [p for p in g["params"] if id(p) in encoder]
            split.append({**g, "name": f"{g['name']}_decoder", "lr_scale": scale})
            split[-1]["params"] = [p for p in g["params"] if id(p) not in encoder]
        return split

    def input_channels(self) -> tuple[str, int | None]:
        return "model.in_channels", self.hparams.in_channels

    def check_data(self, datamodule) -> None:
        """The image channels, classes and ignore index against the datamodule's."""
        super().check_data(datamodule)
        theirs = getattr(datamodule, "ignore_index", None)
        if theirs is not None:
            require("model.ignore_index", self.ignore_index, theirs, "as its ignore index")

    def on_validation_epoch_start(self) -> None:
        self.scores.reset()

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        if "mask" not in batch:
            return
        probs = self.predict_probabilities(batch["image"])
        target = batch["mask"]
        if (target != self.ignore_index).any():
            loss = F.nll_loss(probs.clamp_min(1e-8).log(), target, ignore_index=self.ignore_index)
            stage = "test" if self.trainer.testing else "val"
            self.log(f"{stage}/loss", loss, batch_size=len(target), sync_dist=True)
        self.scores.update(probs.argmax(1), target)

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        if self.scores.update_count == 0:
            return
        stage = "test" if self.trainer.testing else "val"
        for name, value in self.scores.compute().items():  # already summed over ranks
            self.log(f"{stage}/{name}", value.float(), prog_bar=name == "iou", sync_dist=True)

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> dict:
        """Class ids ``(B, H, W)`` (uint8, CPU) of whole images, with their positions."""
        if "image" not in batch:  # every image of the batch skipped (on_bad_file="skip")
            empty = torch.empty(0, dtype=torch.long)
            return {"prediction": torch.empty(0, 1, 1, dtype=torch.uint8), "index": empty}
        classes = self.predict_probabilities(batch["image"]).argmax(1)
        return {"prediction": classes.to(torch.uint8).cpu(), "index": batch["index"].cpu()}


def semi_batch(batch: dict) -> tuple[torch.Tensor, torch.Tensor, list, torch.Tensor]:
    """Labeled images and masks, unlabeled views and their padding map ``(B, H, W)`` (255:
    padding; zeros if the batch has none) of a semi batch."""
    labeled, unlabeled = batch["labeled"], batch["unlabeled"]
    views, ignore = unlabeled["views"], unlabeled.get("ignore")
    if ignore is None:
        w = views[0]
        ignore = torch.zeros(w.shape[0], *w.shape[-2:], dtype=torch.uint8, device=w.device)
    return labeled["image"], labeled["mask"], views, ignore
