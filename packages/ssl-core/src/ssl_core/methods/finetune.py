"""Fine-tuning and linear probing from a self-supervised checkpoint.

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (section 4 and
  appendix B: linear evaluation, fine-tuning on 1% / 10% of the labels)

Details: docs/methods.md, "Supervised, FineTune".
"""

from __future__ import annotations

from ssl_core.methods.supervised import Supervised


class FineTune(Supervised):
    """A :class:`Supervised` classifier on a pretrained, optionally frozen backbone.

    Args:
        freeze_backbone: Train the classifier only (linear probe).
        **kwargs: :class:`Supervised` arguments; give ``backbone`` its ``weights``
            (without them this is the supervised baseline from scratch).
    """

    def __init__(self, freeze_backbone: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        if freeze_backbone:
            self.freeze_backbone_()
