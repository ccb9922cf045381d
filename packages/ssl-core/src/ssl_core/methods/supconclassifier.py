"""SupConClassifier: supervised contrastive loss plus a classifier, in a low-dimensional space.

- [0] SupCon, Khosla et al. 2020, https://arxiv.org/abs/2004.11362
- [1] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709 (the MLP projection
  head, and the released ResNet-50 checkpoints this can start from)

One network trained on the labeled images only (``data.train_on: labeled``, no
unlabeled pool), with ``loss = SupCon + ce_weight * CE`` on two views of each image:

- an MLP projector maps the backbone features to a ``projection_dim``-dimensional space
  (2-8: small enough to be looked at as is); SupCon [0] pulls the L2-normalized
  projections of images of the same class together and pushes the others apart;
- a linear classifier on the same normalized projections learns with cross-entropy, so
  the space that is plotted is also the one that is classified.

The backbone may be a pretrained encoder from a local file, e.g. a SimCLR ResNet-50 [1]
(``Backbone(name: resnet50, weights: PATH)``; with ``keep_fc: true`` the output of the
file's ``fc`` layer is the feature), frozen with ``freeze_backbone: true``: then only the
projector and the classifier learn, on the pretrained features.

Departures from [0]: [0] trains the encoder with SupCon first and a linear classifier on
the frozen encoder afterwards; here both losses are optimized together, the classifier
reads the projection (not the encoder's features), and the space has 4 dimensions, not 128.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.data.views import cat
from ssl_core.losses import SupConLoss
from ssl_core.methods.classifier import ClassifierMixin
from ssl_core.methods.supcon import SupCon


class SupConClassifier(ClassifierMixin, SupCon):
    """SupCon + cross-entropy of a linear classifier on a low-dimensional projection.

    Training batches hold ``views``, a list of V >= 1 tensors ``(B, C, H, W)`` (two in
    [0]), and ``label`` ``(B,)``; all of them must be labeled. Every view is an anchor
    of SupCon and a sample of the cross-entropy. The projector, the loss and the
    labeled-only check are :class:`SupCon`'s.

    The classifier reads the *L2-normalized* projection: SupCon only shapes directions
    (it normalizes), so the norm of an unnormalized projection is left free, and the
    cross-entropy would use it (growing it to sharpen its logits, or telling classes
    apart by a length the contrastive geometry never sees). On the unit sphere both
    losses act on the same points, the classifier's regions are cones around the class
    clusters, and the logits' scale is the classifier's weight norm, which weight decay
    bounds. ``embed`` returns these normalized projections (``projection``).

    Logged: ``train/loss`` (with ``train/loss_supcon``, ``train/loss_ce``,
    ``train/top1``); on the validation split ``val/loss`` (the same loss, for a
    checkpoint or early-stopping callback to monitor), ``val/loss_supcon``,
    ``val/loss_ce``, ``val/top1`` (the classifier) and the online kNN's
    ``val/knn_top1``/``val/knn_top5`` on the backbone features; under ``train test`` the
    same as ``test/...``.

    ``val/loss`` is computed on the deterministic evaluation view, one per image, on the
    backbone features the online kNN already computed: its SupCon term contrasts each
    image with the other images of its evaluation batch (positives: those of the same
    class; an image alone of its class in the batch is left out, and a batch without any
    pair adds 0). It therefore depends on ``eval_batch_size`` and on the evaluation order
    (the dataset's, fixed): compare it between validations of one run, not between runs
    with other batch sizes.

    Args:
        num_classes: Outputs of the classifier; ``None``: the data's number of classes
            (:mod:`~ssl_core.methods.classifier`).
        projection_dim: Width of the normalized space (2-8 to plot it; 128 in [0]).
        hidden_dim: Hidden width of the projector (2048 in [0] for a ResNet-50).
        num_layers: Linear layers of the projector (2 in [0]).
        temperature: SupCon temperature (0.1 in [0]; 0.5 is the low-dimensional
            recipe's value).
        ce_weight: Weight lambda of the cross-entropy (0 = SupCon only: no classifier).
        label_smoothing: Cross-entropy label smoothing (0 = none).
        freeze_backbone: Train the projector and classifier only
            (:meth:`~ssl_core.methods.base.BaseMethod.freeze_backbone_`).
        gather_distributed: Contrast with the samples of every DDP rank in training.
        **kwargs: :class:`BaseMethod` arguments (backbone, optimizer, scheduler, kNN).
    """

    def __init__(
        self,
        num_classes: int | None = None,
        projection_dim: int = 4,
        hidden_dim: int = 2048,
        num_layers: int = 2,
        temperature: float = 0.5,
        ce_weight: float = 1.0,
        label_smoothing: float = 0.0,
        freeze_backbone: bool = False,
        gather_distributed: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(
            projection_dim=projection_dim,
            hidden_dim=hidden_dim,
            num_layers=num_layers,
            temperature=temperature,
            gather_distributed=gather_distributed,
            **kwargs,
        )
        # Evaluation batches differ in size across DDP ranks (every sample once), so in
        # evaluation each rank contrasts its own batch.
        self.eval_criterion = SupConLoss(temperature=temperature)
        self.cross_entropy = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        if freeze_backbone:
            self.freeze_backbone_()

    def classifier_features(self) -> int:
        return self.hparams.projection_dim  # the classifier reads the normalized projection

    def configure_classifier(self) -> None:
        if self.hparams.ce_weight:
            super().configure_classifier()
        else:  # SupCon only
            self.classifier = None

    # ------------------------------------------------------------- the model
    def project(self, features: torch.Tensor) -> torch.Tensor:
        """L2-normalized projections ``(B, projection_dim)`` of features ``(B, D)``."""
        return F.normalize(self.projection_head(features), dim=1)

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        return {"features": features, "projection": self.project(features)}

    def classify(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor | None:
        """Logits ``(B, num_classes)`` of the classifier on the normalized projection
        (``None`` without a classifier: ``ce_weight`` 0)."""
        if getattr(self, "classifier", None) is None:
            return None
        return self.classifier(self.project(features))

    def losses(
        self, features: torch.Tensor, labels: torch.Tensor, views: int = 1
    ) -> dict[str, torch.Tensor]:
        """The loss of backbone features ``(V * B, D)`` of V views of B images (view-major,
        as ``backbone(torch.cat(views))`` gives them) with ``labels`` ``(B,)``.

        Returns:
            ``loss`` (SupCon + ce_weight * CE), its terms ``supcon`` and ``ce``, and the
            classifier's accuracy ``top1`` over all views (detached); without a
            classifier ``ce`` is 0 and there is no ``top1``. Training contrasts across
            DDP ranks, evaluation each rank's own batch.
        """
        z = self.project(features)  # (V * B, P)
        criterion = self.criterion if self.training else self.eval_criterion
        supcon = criterion(torch.stack(z.chunk(views), dim=1), labels)  # (B, V, P)
        out = {"loss": supcon, "supcon": supcon, "ce": torch.zeros_like(supcon)}
        if self.classifier is not None:
            logits, targets = self.classifier(z), labels.repeat(views)
            out["ce"] = self.cross_entropy(logits, targets)
            out["loss"] = supcon + self.hparams.ce_weight * out["ce"]
            out["top1"] = (logits.argmax(dim=1) == targets).float().mean().detach()
        return out

    # -------------------------------------------------------------- training
    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        views, labels = batch["views"], batch["label"]
        self.check_labeled(labels)
        # All views in one pass, as the reference code of [0]: one set of batch-norm
        # statistics for all views.
        losses = self.losses(self.backbone(cat(list(views))), labels, len(views))
        terms = {"loss_supcon": losses["supcon"], "loss_ce": losses["ce"]}
        self.log_train({"loss": losses["loss"], **terms}, batch_size=len(labels))
        if "top1" in losses:
            self.log(
                "train/top1", losses["top1"], on_step=False, on_epoch=True, batch_size=len(labels)
            )
        return losses["loss"]

    # ------------------------------------------------------------ evaluation
    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        """The online kNN and ``top1`` (:class:`BaseMethod`), and on the queries
        (dataloader 1: the validation split, or the test set under ``train test``) the
        training loss on the evaluation view, from the same backbone features."""
        features = super().validation_step(batch, batch_idx, dataloader_idx)
        if dataloader_idx != 1:  # dataloader 0 is the kNN's memory bank
            return
        if features is None:  # no probes (one class): the features are not computed yet
            features = self.backbone(batch["image"])
        losses = self.losses(features, batch["label"])
        stage = "test" if self.trainer.testing else "val"
        log = dict(
            on_epoch=True, batch_size=len(batch["label"]), sync_dist=True, add_dataloader_idx=False
        )
        self.log(f"{stage}/loss", losses["loss"], **log)
        self.log(f"{stage}/loss_supcon", losses["supcon"], **log)
        self.log(f"{stage}/loss_ce", losses["ce"], **log)
