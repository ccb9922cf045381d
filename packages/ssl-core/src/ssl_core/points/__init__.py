"""Sets of particles (jets) through ssl-core: reading, features, augmentations,
collation and backbones. See :mod:`ssl_core.points.jets` (the source),
:mod:`~ssl_core.points.features`, :mod:`~ssl_core.points.augment`,
:mod:`~ssl_core.points.collate` and :mod:`~ssl_core.points.backbones`.

A backbone takes one view ``{"points": (B, P, F), "mask": (B, P)}``; methods call it on a
view unchanged, as on an image tensor.
"""

from ssl_core.points.augment import (
    CollinearSplit,
    Dropout,
    JetCLRTransform,
    JetEvalTransform,
    JetTransform,
    JetView,
    JetWeakStrongTransform,
    Rotate,
    SmearPt,
    SoftSmear,
    Translate,
    jetclr_ops,
)
from ssl_core.points.backbones import ParticleFlowNetwork, ParticleTransformer
from ssl_core.points.collate import JetCollate, JetDataset, cat_views, pad_jets, pad_points
from ssl_core.points.features import (
    FEATURES,
    NUM_FEATURES,
    Jets,
    feature_statistics,
    jet_feature_statistics,
    normalize_points,
    particle_features,
)
from ssl_core.points.jets import BadJetError, JetSample, JetSource, jet_test_split

__all__ = [
    "FEATURES",
    "NUM_FEATURES",
    "BadJetError",
    "CollinearSplit",
    "Dropout",
    "JetCLRTransform",
    "JetCollate",
    "JetDataset",
    "JetEvalTransform",
    "JetSample",
    "JetSource",
    "JetTransform",
    "JetView",
    "JetWeakStrongTransform",
    "Jets",
    "ParticleFlowNetwork",
    "ParticleTransformer",
    "Rotate",
    "SmearPt",
    "SoftSmear",
    "Translate",
    "cat_views",
    "feature_statistics",
    "jet_feature_statistics",
    "jet_test_split",
    "jetclr_ops",
    "normalize_points",
    "pad_jets",
    "pad_points",
    "particle_features",
]
