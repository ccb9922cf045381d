"""Semi-supervised semantic segmentation on segmentation-models-pytorch.

- data: :mod:`~ssl_core.segmentation.transforms` (joint image + mask transforms) and
  :mod:`~ssl_core.segmentation.data` (``SegmentationSource``, ``SegmentationDataModule``);
- the task base :class:`~ssl_core.segmentation.base.SegmentationTask` (SMP network,
  encoder weights from local files, whole-image inference, IoU/Dice) and one method per
  file: :class:`SupervisedSegmentation`, :class:`MeanTeacherSegmentation`,
  :class:`FixMatchSegmentation`, :class:`UniMatch`;
- :class:`~ssl_core.segmentation.writer.MaskWriter`: ``train predict`` writes one PNG
  per test image, which ``evaluate RUN`` scores (:mod:`ssl_core.evaluate.segmentation`).

Names are imported on first use, so that importing the data side stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SegmentationTask": "base",
    "SupervisedSegmentation": "supervised",
    "MeanTeacherSegmentation": "meanteacher",
    "FixMatchSegmentation": "fixmatch",
    "UniMatch": "unimatch",
    "MaskWriter": "writer",
    "SegmentationLoss": "losses",
    "load_encoder_weights": "weights",
    "EncoderWeightsError": "weights",
    "SegmentationSource": "data",
    "SegmentationDataModule": "data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
