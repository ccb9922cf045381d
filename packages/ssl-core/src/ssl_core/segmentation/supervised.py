"""The supervised baseline: the labeled images only, the same network and loss.

- [0] U-Net, Ronneberger et al. MICCAI 2015, https://arxiv.org/abs/1505.04597 (the
  usual network; the architecture is any SMP one, chosen in YAML)

Every semi-supervised method is read against this: same network, transforms, labeled
images and budget, cross-entropy + Dice on the labeled crops, nothing else. With
``data.train_on: labeled`` batches are ``{"image", "mask", "index"}``; a semi batch is
accepted too (its unlabeled part is not used).
"""

from __future__ import annotations

import torch

from ssl_core.segmentation.base import SegmentationTask


class SupervisedSegmentation(SegmentationTask):
    """Cross-entropy + Dice on labeled images.

    Args:
        **kwargs: :class:`~ssl_core.segmentation.base.SegmentationTask` arguments
            (network, loss, inference, optimizer).
    """

    train_on = "labeled"

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        labeled = batch.get("labeled", batch)
        loss, _ = self.labeled_loss(labeled)
        self.log_train({"loss": loss}, batch_size=len(labeled["mask"]))
        return loss
