"""Mean Teacher: consistency with an exponential moving average of the model. Details and
departures from [0]: docs/methods.md, "MeanTeacher".

- [0] Mean Teacher, Tarvainen & Valpola 2017, https://arxiv.org/abs/1703.01780
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.data.views import cat
from ssl_core.methods.base import BaseMethod
from ssl_core.methods.classifier import ClassifierMixin
from ssl_core.methods.ema import MeanTeacherMixin, frozen_copy


class MeanTeacher(MeanTeacherMixin, ClassifierMixin, BaseMethod):
    """Student (backbone + linear classifier) and its EMA teacher.

    Batches (``data.train_on: semi``): two views ``(B, C, H, W)`` of labeled and of
    unlabeled images; view 0 goes to the student, view 1 to the teacher.

    Args:
        consistency: Maximum weight of the consistency cost (100 in [0] on CIFAR-10).
        rampup: Length of the sigmoid ramp-up of that weight: a share of the run's
            optimizer steps if <= 1, else a number of steps.
        ema_decay: Decay of the teacher's EMA (0.999 in [0] after ramp-up).
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    train_on = "semi"

    def __init__(
        self, consistency: float = 100.0, rampup: float = 0.3, ema_decay: float = 0.999, **kwargs
    ) -> None:
        super().__init__(**kwargs)

    def configure_models(self) -> None:
        self.teacher_backbone = frozen_copy(self.backbone)
        super().configure_models()  # the classifier, when num_classes is known

    def configure_head(self) -> None:
        super().configure_head()
        self.teacher_classifier = frozen_copy(self.classifier)

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.backbone, self.teacher_backbone), (self.classifier, self.teacher_classifier)]

    def teacher(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher logits ``(B, num_classes)`` of images ``(B, C, H, W)``."""
        return self.teacher_classifier(self.teacher_backbone(x))

    def classify(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return self.teacher(images)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        (l_student, l_teacher), labels = batch["labeled"]["views"][:2], batch["labeled"]["label"]
        u_student, u_teacher = batch["unlabeled"]["views"][:2]
        student_logits = self.classifier(self.backbone(cat([l_student, u_student])))
        with torch.no_grad():
            teacher_logits = self.teacher(cat([l_teacher, u_teacher]))

        # over the labeled images ([0]'s code: over the whole minibatch)
        loss_l = F.cross_entropy(student_logits[: len(labels)], labels)
        # MSE of the softmax outputs, averaged over images and classes as in [0]'s code.
        loss_c = F.mse_loss(F.softmax(student_logits, dim=1), F.softmax(teacher_logits, dim=1))
        return self.consistency_total(loss_l, loss_c, batch_size=len(labels))
