"""Sets of particles (jets) through ssl-core: reading, features, augmentations,
collation and backbones. See :mod:`ssl_core.points.jets` (the source),
:mod:`~ssl_core.points.features`, :mod:`~ssl_core.points.augment`,
:mod:`~ssl_core.points.collate` and :mod:`~ssl_core.points.backbones`.

A backbone takes one view ``{"points": (B, P, F), "mask": (B, P)}``; methods call it on a
view unchanged, as on an image tensor.

What a datamodule calls::

    source = JetSource(root)                     # ids "top.npz:17", targets, class_names,
                                                 # signal_class; read(i) -> (n, 4) float32
    train_ids, test_ids = jet_test_split(source, 0.2, seed=0)
    mean, std = source.feature_statistics(train_indices)          # (7,) each
    dataset = JetDataset(source, indices, labels=None, on_bad_file="error")
    # items {"constituents", "label", "index", "seed"}; takes (index, seed) from
    # SeededSampler, so each jet is augmented from its own seed
    loader = DataLoader(dataset, sampler=..., batch_size=256,
                        collate_fn=JetCollate(JetCLRTransform(), max_particles=128))
    # batch {"views": [{"points", "mask"}, ...], "label", "index"[, "bad_files"]};
    # JetWeakStrongTransform() for FixMatch & co., JetCollate() (no transform) for
    # evaluation: {"image": {"points", "mask"}, ...}
    batch = normalize_points(batch, mean, std)   # on the device (on_after_batch_transfer)

Methods that concatenate views (``torch.cat(views)``) need :func:`cat_views` for dicts.
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
