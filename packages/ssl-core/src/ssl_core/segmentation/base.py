"""The base LightningModule of every segmentation method (sibling of
:class:`ssl_core.methods.base.BaseMethod` on :class:`ssl_core.task.TaskModule`).

What the methods share lives here, in named hooks a method overrides:

- ``configure_models``: the network, ``smp.create_model(arch, encoder_name,
  encoder_weights=None, in_channels, classes=num_classes)`` (``self.network``), its
  encoder optionally loaded from a local file (:mod:`ssl_core.segmentation.weights`:
  a state dict, a torchvision ResNet, or an ssl-core checkpoint such as SimCLR's);
  methods add teachers here.
- ``configure_losses``: the supervised loss, CE + Dice (``self.supervised_loss``).
- ``training_step``: each method writes its own.
- inference on whole images of any size (``predict_probabilities``): padded to the
  network's stride, or by sliding window (``window``) for large images; the network used
  is ``inference_network()`` (Mean Teacher: the teacher).
- validation / test: dataset-level foreground IoU and Dice and the mean per-image IoU
  (:mod:`ssl_core.segmentation.metrics`), logged ``val/iou``, ``val/dice``,
  ``val/image_iou``, ``val/image_dice``, ``val/loss`` (``test/...`` under ``train test``).
- predict: the class map of each image (what :class:`~ssl_core.segmentation.writer.MaskWriter`
  writes as PNG).

Binary tasks are two classes with softmax, so thresholds and ``ignore_index`` (255,
padding) work as for more classes. Batches follow the contract of
:mod:`ssl_core.segmentation.data`: labeled ``{"image" (B, C, h, w) float normalized,
"mask" (B, h, w) int64, "index"}``; unlabeled ``{"views": [weak, strong1, strong2],
"ignore" (B, h, w) uint8 (255: padding), "index"}``; a semi step ``{"labeled": ...,
"unlabeled": ...}``; evaluation batches are whole images, batch size 1.
"""

from __future__ import annotations

from typing import Any

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from ssl_core.segmentation.inference import (
    PadMode,
    padded_probabilities,
    sliding_window_probabilities,
)
from ssl_core.segmentation.losses import SegmentationLoss
from ssl_core.segmentation.metrics import SegmentationScores
from ssl_core.segmentation.weights import load_encoder_weights
from ssl_core.task import DataMismatchError, TaskModule, default_optimizer, require


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
    return smp.create_model(
        arch,
        encoder_name=encoder_name,
        encoder_weights=None,
        in_channels=in_channels,
        classes=num_classes,
        **kwargs,
    )


class SegmentationTask(TaskModule):
    """An SMP network, CE + Dice, whole-image inference and foreground IoU/Dice.

    Args:
        arch: SMP architecture (``unet``, ``deeplabv3plus``, ``fpn``, ``unetplusplus``,
            ``segformer``, ...).
        encoder_name: SMP encoder (``resnet18``, ``resnet34``, ...) or a timm encoder
            ``tu-<timm name>`` (e.g. ``tu-resnet18``, ``tu-mobilenetv3_small_050``).
        encoder_weights: Local file with encoder weights: a state dict, a torchvision
            ResNet, or an ssl-core checkpoint (e.g. SimCLR's ``last.ckpt``: its
            ``backbone``); ``None``: random init. Nothing is downloaded.
        in_channels: Image channels (1 grey, 3 RGB, 4, ...).
        num_classes: Classes including the background (2 for binary); ``None``: the
            datamodule's ``num_classes``, read at ``setup`` (the network is built then).
        model_kwargs: More arguments of ``smp.create_model`` (e.g. ``decoder_channels``,
            ``encoder_depth``).
        ignore_index: Label of pixels to leave out of losses and metrics (padding).
        dice_weight: Weight of the Dice term of the supervised loss (0: CE only).
        decoder_lr_scale: Learning rate of the decoder and head relative to the encoder's
            (UniMatch uses 10 with a pretrained encoder; 1 from scratch).
        window: Side in px of the sliding window of inference; ``None``: the whole image
            at once (padded to ``stride``).
        window_overlap: Share of a window's side that neighbouring windows overlap.
        pad_mode: Padding of whole images / windows to ``stride``: ``reflect`` or
            ``constant`` (zeros).
        stride: Side multiple the network needs (32 for SMP's 5-stage encoders).
        **kwargs: :class:`~ssl_core.task.TaskModule` arguments (optimizer, lr_scheduler,
            lr_interval, lr_frequency, exclude_norm_bias_decay).
    """

    #: foreground IoU and Dice over the test set (dataset-level: ``SegmentationScores``)
    test_metrics = {"test/iou": "test_iou", "test/dice": "test_dice"}

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
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.configure_losses()
        if num_classes is not None:
            self.configure_network()

    def configure_network(self) -> None:
        """The network (:func:`create_network`, its encoder's weights from
        ``encoder_weights``), the metrics and what the method adds (``configure_models``),
        once ``num_classes`` is known: at ``__init__`` or, taken from the data, at
        ``setup`` (before Lightning restores a checkpoint or makes the optimizer)."""
        h = self.hparams
        self.network = create_network(
            h.arch, h.encoder_name, h.in_channels, self.num_classes, h.model_kwargs
        )
        if h.encoder_weights is not None:
            done = load_encoder_weights(self.network.encoder, h.encoder_weights)
            rank_zero_info(
                f"Encoder weights from {h.encoder_weights}"
                + (f"; first conv adapted to {h.in_channels} channels" if done["adapted"] else "")
                + (
                    f"; left out {len(done['left_out'])} classifier keys"
                    if done["left_out"]
                    else ""
                )
            )
        self.scores = SegmentationScores(self.num_classes, self.ignore_index)
        self.configure_models()

    # ------------------------------------------------------------------ hooks
    def configure_models(self) -> None:
        """Create what a method adds to ``self.network`` (teachers, ...)."""

    def configure_losses(self) -> None:
        """The supervised loss: CE + ``dice_weight`` Dice, ``ignore_index`` left out."""
        self.supervised_loss = SegmentationLoss(self.ignore_index, self.hparams.dice_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, H, W)`` of images ``(B, C, H, W)`` with sides divisible by
        ``stride``."""
        return self.network(x)

    def inference_network(self) -> nn.Module:
        """The network of validation, test and predict (Mean Teacher: the teacher)."""
        return self.network

    @torch.no_grad()
    def predict_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(B, K, H, W)`` of images ``(B, C, H, W)`` of any size."""
        net = self.inference_network()
        h = self.hparams
        if h.window is None:
            return padded_probabilities(net, images, h.stride, h.pad_mode)
        return sliding_window_probabilities(
            net, images, h.window, h.window_overlap, h.stride, h.pad_mode
        )

    def labeled_loss(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Supervised loss of a labeled batch and its logits."""
        logits = self.network(batch["image"])
        return self.supervised_loss(logits, batch["mask"]), logits

    # ------------------------------------------------------------- optimizers
    def parameter_groups(self) -> list[dict]:
        """TaskModule's groups, split into encoder and decoder + head when
        ``decoder_lr_scale`` is not 1 (the latter with ``lr_scale``)."""
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

    def configure_optimizers(self):
        if self.hparams.decoder_lr_scale == 1:
            return super().configure_optimizers()
        build = self.optimizer

        def scaled(groups):  # scale before the scheduler records the initial lr
            opt = (build or default_optimizer)(groups)
            for group in opt.param_groups:
                group["lr"] *= group.get("lr_scale", 1.0)
            return opt

        self.optimizer = scaled
        try:
            return super().configure_optimizers()
        finally:
            self.optimizer = build

    # ------------------------------------------------------------ evaluation
    def input_channels(self) -> tuple[str, int | None]:
        return "model.in_channels", self.hparams.in_channels

    def check_data(self, datamodule) -> None:
        """The image channels (:class:`~ssl_core.task.TaskModule`), the number of classes
        and the ignore index against the datamodule's."""
        super().check_data(datamodule)
        for name, own, what in (
            ("num_classes", self.num_classes, "classes"),
            ("ignore_index", self.ignore_index, "as its ignore index"),
        ):
            theirs = getattr(datamodule, name, None)
            if theirs is not None and own is not None:
                require(f"model.{name}", own, theirs, what)

    def setup(self, stage: str) -> None:
        """Check the data; build the network for its classes when ``num_classes`` is not
        set."""
        super().setup(stage)
        if self.num_classes is None:
            theirs = getattr(self.datamodule(), "num_classes", None)
            if not theirs:
                raise DataMismatchError(
                    "model.num_classes is not set and the data does not say how many classes "
                    "it has: set --model.num_classes N"
                )
            self._set_num_classes(int(theirs))

    def load_state_dict(self, state_dict, *args, **kwargs):
        """``nn.Module.load_state_dict``, first building the network of a model that has
        none yet (nothing sized it, e.g. ``ddp_spawn``'s main process) for the classes
        of ``state_dict``'s head (SMP's ``segmentation_head``)."""
        head = state_dict.get("network.segmentation_head.0.weight")
        if self.num_classes is None and head is not None:
            self._set_num_classes(int(head.shape[0]))
        return super().load_state_dict(state_dict, *args, **kwargs)

    def _set_num_classes(self, n: int) -> None:
        self.num_classes = n
        self.hparams["num_classes"] = n  # the checkpoint says it: load_from_checkpoint
        self.configure_network()

    def on_validation_epoch_start(self) -> None:
        self.scores.reset()

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        if "mask" not in batch:
            return
        probs = self.predict_probabilities(batch["image"])
        target = batch["mask"]
        if (target != self.ignore_index).any():
            log_probs = probs.clamp_min(1e-8).log()
            loss = F.nll_loss(log_probs, target, ignore_index=self.ignore_index)
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
        probs = self.predict_probabilities(batch["image"])
        return {
            "prediction": probs.argmax(1).to(torch.uint8).cpu(),
            "index": batch["index"].cpu(),
        }


def unlabeled_ignore(unlabeled: dict, like: torch.Tensor) -> torch.Tensor:
    """The unlabeled batch's padding map ``(B, H, W)`` (255: padding), zeros if absent."""
    ignore = unlabeled.get("ignore")
    if ignore is None:
        return torch.zeros(like.shape[0], *like.shape[-2:], dtype=torch.uint8, device=like.device)
    return ignore
