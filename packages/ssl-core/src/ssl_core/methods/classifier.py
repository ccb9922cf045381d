"""The linear classifier of every method that classifies, sized from the data.

``num_classes`` defaults to ``None``: the classifier then gets the datamodule's
``num_classes`` at ``setup`` (before a checkpoint is restored and before
``configure_optimizers``) and writes it to ``hparams``, so ``load_from_checkpoint``
builds the head in ``__init__``. A number given in the config is checked against the
data (:class:`~ssl_core.task.DataMismatchError`). See docs/methods.md.
"""

from __future__ import annotations

from torch import nn

from ssl_core.task import DataMismatchError, require

SETTING = "model.num_classes"


class ClassifierMixin:
    """``self.classifier``: a linear layer from :meth:`classifier_features` inputs to
    ``num_classes`` logits. Mix in before the base; the method has a ``num_classes: int |
    None = None`` argument and calls ``super().configure_models()``.
    """

    num_classes: int | None
    #: the ``hparams`` loss weight at whose 0 there is no (untrained) classifier
    classifier_weight: str | None = None

    def classifier_features(self) -> int:
        """Input width of the classifier: the backbone's features."""
        return self.backbone.num_features

    def configure_classifier(self) -> None:
        """Create the classifier (and, in a method, what derives from it) once
        ``num_classes`` is known."""
        if self.classifier_weight and not self.hparams[self.classifier_weight]:
            self.classifier = None
        else:
            self.classifier = nn.Linear(self.classifier_features(), self.num_classes)

    def configure_models(self) -> None:
        super().configure_models()
        self.num_classes = self.hparams.get("num_classes")
        if self.num_classes is not None:
            self.configure_classifier()

    def check_data(self, datamodule) -> None:
        super().check_data(datamodule)
        theirs = getattr(datamodule, "num_classes", None)
        if self.num_classes is not None and theirs:
            fix = f"leave {SETTING} out (it is then taken from the data) or set it to {theirs}"
            require(SETTING, self.num_classes, theirs, "classes", fix)

    def setup(self, stage: str) -> None:
        """Check the data; size the classifier from it when ``num_classes`` is not set."""
        super().setup(stage)
        if self.num_classes is not None:
            return
        theirs = int(getattr(self.datamodule(), "num_classes", 0) or 0)
        if theirs < 1:
            raise DataMismatchError(
                f"{SETTING} is not set and the data does not say how many classes it has: "
                f"set --{SETTING} N"
            )
        self._set_num_classes(theirs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        """``nn.Module.load_state_dict``, first giving a model without a head (e.g. in
        ``ddp_spawn``'s main process) the head of ``state_dict``'s size; a head of another
        size is refused."""
        weight = state_dict.get("classifier.weight")
        if weight is not None:
            saved = int(weight.shape[0])
            if self.num_classes is None:
                self._set_num_classes(saved)
            elif saved != self.num_classes:
                raise DataMismatchError(
                    f"the checkpoint's classifier has {saved} classes but this model has "
                    f"{self.num_classes} ({SETTING} or the data's classes)"
                )
        return super().load_state_dict(state_dict, *args, **kwargs)

    def _set_num_classes(self, n: int) -> None:
        self.num_classes = n
        self.hparams["num_classes"] = n  # the checkpoint says it: load_from_checkpoint
        self.configure_classifier()
