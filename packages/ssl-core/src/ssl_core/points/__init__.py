"""Sets of particles (jets) through ssl-core: the source (:mod:`~ssl_core.points.jets`),
per-particle features (:mod:`~ssl_core.points.features`), JetCLR's augmentations
(:mod:`~ssl_core.points.augment`: the ops, and the recipes exported here), the modality
(:mod:`~ssl_core.points.modality`) and set backbones (:mod:`~ssl_core.points.backbones`).

A backbone takes one view ``{"points": (B, P, F), "mask": (B, P)}``; methods call it on a
view unchanged, as on an image tensor. The data layer's one datamodule serves jets
(:class:`ssl_core.data.ClassificationDataModule` with a :class:`JetFiles` source, whose
modality is :class:`Points`)::

    data:
      class_path: ssl_core.data.ClassificationDataModule
      init_args:
        source: {class_path: ssl_core.points.JetFiles}
        modality: {class_path: ssl_core.points.Points, init_args: {max_particles: 64}}
        train_transform: {class_path: ssl_core.points.JetCLRTransform}
"""

from ssl_core.points.augment import JetCLRTransform, JetEvalTransform, JetWeakStrongTransform
from ssl_core.points.backbones import (
    ParticleFlowNetwork,
    ParticleTransformer,
    PlainParticleTransformer,
)
from ssl_core.points.jets import BadJetError, JetArrays, JetFiles
from ssl_core.points.modality import JetCollate, Points

__all__ = [
    "BadJetError",
    "JetArrays",
    "JetCLRTransform",
    "JetCollate",
    "JetEvalTransform",
    "JetFiles",
    "JetWeakStrongTransform",
    "ParticleFlowNetwork",
    "ParticleTransformer",
    "PlainParticleTransformer",
    "Points",
]
