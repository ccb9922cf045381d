"""Fine-tuning and linear probing from a self-supervised checkpoint.

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (section 4 and
  appendix B: linear evaluation, fine-tuning on 1% / 10% of the labels)

The backbone's weights come from a local checkpoint of any method (a Lightning ``.ckpt``
of SimCLR, BYOL, ...): ``Backbone(weights=PATH)`` keeps the ``backbone.net.*`` entries
and drops the heads. Then a linear classifier is trained on the labeled images
(``data.train_on: labeled``):

- ``freeze_backbone: true``: linear probe. Only the classifier learns; the backbone
  stays in eval mode (its batch-norm statistics are the checkpoint's).
- ``freeze_backbone: false``: fine-tuning of the whole network.
"""

from __future__ import annotations

from ssl_core.methods.supervised import Supervised


class FineTune(Supervised):
    """A :class:`Supervised` classifier on a pretrained, optionally frozen backbone.

    Args:
        freeze_backbone: Train the classifier only (linear probe).
        num_classes: Outputs of the classifier; ``None``: the data's number of classes
            (:mod:`~ssl_core.methods.classifier`).
        label_smoothing: Cross-entropy label smoothing.
        **kwargs: :class:`BaseMethod` arguments; give ``backbone`` its ``weights``
            (without them this is the supervised baseline from scratch).
    """

    def __init__(
        self,
        freeze_backbone: bool = False,
        num_classes: int | None = None,
        label_smoothing: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(num_classes=num_classes, label_smoothing=label_smoothing, **kwargs)
        if freeze_backbone:
            self.freeze_backbone_()
