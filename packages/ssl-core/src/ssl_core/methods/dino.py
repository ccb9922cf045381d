"""DINO: self-distillation with no labels. Details and departures: docs/methods.md, "DINO".

- [0] DINO, Caron et al. 2021, https://arxiv.org/abs/2104.14294
"""

from __future__ import annotations

import torch
from lightly.loss import DINOLoss
from lightly.models.modules import DINOProjectionHead
from lightly.models.utils import deactivate_requires_grad

from ssl_core.data.views import size
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.ema import MomentumCopiesMixin, frozen_copy


class DINO(MomentumCopiesMixin, BaseMethod):
    """DINO on lightly's ``DINOProjectionHead`` and ``DINOLoss``.

    Args:
        output_dim: Number of prototypes K (65536 in [0]).
        hidden_dim: Hidden width of the head (2048 in [0]).
        bottleneck_dim: Width before the weight-normalized last layer (256 in [0]).
        batch_norm: BatchNorm in the head (for ResNets).
        freeze_last_layer: Epochs during which the last layer is not trained (1 in [0]).
        student_temp: Student temperature (0.1 in [0]).
        warmup_teacher_temp: Teacher temperature at the start (0.04 in [0]).
        teacher_temp: Teacher temperature after warmup (0.04-0.07 in [0]).
        warmup_teacher_temp_epochs: Epochs of linear teacher-temperature warmup (30 in [0]).
        center_momentum: Momentum of the teacher-output center (0.9 in [0]).
        momentum_base: Teacher momentum at the first step, raised to 1 on a cosine (0.996).
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        output_dim: int = 65536,
        hidden_dim: int = 2048,
        bottleneck_dim: int = 256,
        batch_norm: bool = True,
        freeze_last_layer: int = 1,
        student_temp: float = 0.1,
        warmup_teacher_temp: float = 0.04,
        teacher_temp: float = 0.07,
        warmup_teacher_temp_epochs: int = 30,
        center_momentum: float = 0.9,
        momentum_base: float = 0.996,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.criterion = DINOLoss(
            output_dim=output_dim,
            teacher_temp=teacher_temp,
            student_temp=student_temp,
            center_momentum=center_momentum,
        )

    def configure_models(self) -> None:
        self.projection_head = self._head()
        self.backbone_momentum = frozen_copy(self.backbone)
        # The head's weight norm cannot be deep-copied: a twin with the student's weights.
        self.projection_head_momentum = self._head()
        self.projection_head_momentum.load_state_dict(self.projection_head.state_dict())
        deactivate_requires_grad(self.projection_head_momentum)

    def _head(self) -> DINOProjectionHead:
        return DINOProjectionHead(
            input_dim=self.backbone.num_features,
            hidden_dim=self.hparams.hidden_dim,
            bottleneck_dim=self.hparams.bottleneck_dim,
            output_dim=self.hparams.output_dim,
            batch_norm=self.hparams.batch_norm,
            freeze_last_layer=self.hparams.freeze_last_layer,
        )

    def teacher_temperature(self) -> float:
        """Linear warmup over epochs 0 .. W-1, then constant ([0], section 3.1; as
        lightly's ``np.linspace(warmup, final, W)[epoch]``)."""
        h = self.hparams
        if self.current_epoch >= h.warmup_teacher_temp_epochs:
            return h.teacher_temp
        fraction = self.current_epoch / max(h.warmup_teacher_temp_epochs - 1, 1)
        return h.warmup_teacher_temp + fraction * (h.teacher_temp - h.warmup_teacher_temp)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        views = batch["views"]
        student = self.projections(views)
        with torch.no_grad():
            teacher = [self.projection_head_momentum(self.backbone_momentum(x)) for x in views]
        temperature = self.teacher_temperature()
        # cross-entropy of every teacher view with every *other* student view
        loss = self.criterion(teacher, student, teacher_temp=temperature)
        self.log_train({"loss": loss}, batch_size=size(views[0]))
        self.log("train/teacher_temp", temperature, on_step=False, on_epoch=True)
        return loss

    def on_after_backward(self) -> None:
        self.projection_head.cancel_last_layer_gradients(self.current_epoch)
