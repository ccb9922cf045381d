"""Sets of particles (jets) through ssl-core: the source (:mod:`~ssl_core.points.jets`),
per-particle features (:mod:`~ssl_core.points.features`), JetCLR's augmentations
(:mod:`~ssl_core.points.augment`), the modality (:mod:`~ssl_core.points.modality`) and
set backbones (:mod:`~ssl_core.points.backbones`), which take one view ``{"points": (B,
P, F), "mask": (B, P)}`` (a config: docs/jets.md, "Inside ssl_core.points").
"""

from ssl_core.points.augment import JetCLRTransform, JetWeakStrongTransform
from ssl_core.points.backbones import (
    ParticleFlowNetwork,
    ParticleTransformer,
    PlainParticleTransformer,
)
from ssl_core.points.jets import JetFiles
from ssl_core.points.modality import JetCollate, Points

__all__ = [
    "JetCLRTransform",
    "JetCollate",
    "JetFiles",
    "JetWeakStrongTransform",
    "ParticleFlowNetwork",
    "ParticleTransformer",
    "PlainParticleTransformer",
    "Points",
]
