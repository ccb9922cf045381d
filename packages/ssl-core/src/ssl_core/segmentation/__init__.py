"""Semi-supervised semantic segmentation on segmentation-models-pytorch (one method per
file). Names are imported on first use, so that importing the data side stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SegmentationTask": "base",
    "SupervisedSegmentation": "supervised",
    "MeanTeacherSegmentation": "meanteacher",
    "FixMatchSegmentation": "fixmatch",
    "UniMatch": "unimatch",
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
