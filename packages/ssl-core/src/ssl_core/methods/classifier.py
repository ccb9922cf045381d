"""The linear classifier of every method that classifies, sized from the data.
Details: docs/methods.md, "Classes and channels come from the data".
"""

from __future__ import annotations

from torch import nn


class ClassifierMixin:
    """``self.classifier``: a linear layer from :meth:`classifier_features` inputs to
    ``num_classes`` logits. Mix in before the base; the method calls
    ``super().configure_models()``.

    Args:
        num_classes: Outputs of the classifier (``None``: the data's number of classes).
        **kwargs: The base's arguments.
    """

    head_key = "classifier.weight"
    #: the ``hparams`` loss weight at whose 0 there is no (untrained) classifier
    classifier_weight: str | None = None

    def __init__(self, num_classes: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)

    def classifier_features(self) -> int:
        return self.backbone.num_features

    def configure_head(self) -> None:
        """Create the classifier (and, in a method, what derives from it)."""
        if self.classifier_weight and not self.hparams[self.classifier_weight]:
            self.classifier = None
        else:
            self.classifier = nn.Linear(self.classifier_features(), self.num_classes)

    def configure_models(self) -> None:
        super().configure_models()
        self.set_num_classes(self.hparams.get("num_classes"))
