"""The supervised baseline, against which every semi-supervised method is read: the same
network, transforms, labeled images and budget, CE + Dice on the labeled crops only.

- [0] U-Net, Ronneberger et al. MICCAI 2015, https://arxiv.org/abs/1505.04597 (the
  usual network; the architecture is any SMP one, chosen in YAML)
"""

from __future__ import annotations

import torch

from ssl_core.segmentation.base import SegmentationTask


class SupervisedSegmentation(SegmentationTask):
    """Cross-entropy + Dice on labeled images.

    Args:
        **kwargs: :class:`~ssl_core.segmentation.base.SegmentationTask` arguments.
    """

    train_on = "labeled"

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        labeled = batch.get("labeled", batch)
        loss = self.supervised_loss(self.network(labeled["image"]), labeled["mask"])
        self.log_train({"loss": loss}, batch_size=len(labeled["mask"]))
        return loss
