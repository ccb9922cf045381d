"""What differs between kinds of data: a *modality* says how a dataset of samples is made
(:meth:`~Modality.dataset`), which views a method gets by default (:meth:`~Modality.recipe`)
and how inputs are normalized on the device. :class:`Images` is here; jets are
:class:`ssl_core.points.Points`, series :class:`ssl_core.series.Series`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from ssl_core.data.datasets import IndexedDataset, SampleDataset
from ssl_core.data.views import View, Views
from ssl_core.errors import BadInputError

Sample = tuple[str, Any]  # (id or path relative to the data root, target or None)
DataModule = Any  # ssl_core.data.datamodule.DataModule (which imports this module)

#: Recipe names: two contrastive views (SimCLR, BYOL, ...), one weak view (supervised),
#: a weak and a strong view (FixMatch), two weak views (Mean Teacher), evaluation.
RECIPES = ("contrastive", "weak", "weak_strong", "two_weak", "eval")
#: (weak, strong) views of the weak/strong recipes.
WEAK_STRONG = {"weak": (1, 0), "weak_strong": (1, 1), "two_weak": (2, 0)}


def mean_std(arrays: Iterable[np.ndarray], axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (float64) over ``axis`` of all ``arrays`` together; a
    feature that never varies gets standard deviation 1.

    Raises:
        ValueError: no values (no samples, or only empty ones).
    """
    total = squares = 0.0
    count = 0
    for array in arrays:
        x = np.asarray(array, dtype=np.float64)
        total = total + x.sum(axis=axis)
        squares = squares + (x * x).sum(axis=axis)
        count += x.shape[axis]
    if not count:
        raise ValueError("no samples (or only empty ones) to measure")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    return mean, np.where(std > 0, std, 1.0)


class Modality:
    """What a datamodule needs of a kind of data (see the module docstring)."""

    #: What the samples are called in messages.
    noun = "samples"
    #: The recipes' classes: ``contrastive()``, ``weak_strong(weak, strong)``, ``evaluation()``.
    contrastive: type | None = None
    weak_strong: type | None = None
    evaluation: type | None = None

    def dataset(self, dm: DataModule, samples: list[Sample], transform: Any) -> Any:
        """The dataset of ``samples`` of ``dm``'s source through ``transform``."""
        raise NotImplementedError

    def recipe(self, name: str, dm: DataModule) -> Views:
        """The views of recipe ``name`` (:data:`RECIPES`) for ``dm``'s data."""
        self.check_recipe(name)
        if name == "contrastive":
            return self.contrastive()
        return self.evaluation() if name == "eval" else self.weak_strong(*WEAK_STRONG[name])

    def statistics(self, dm: DataModule) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation for :meth:`normalize` (default: the source's)."""
        return (
            torch.tensor(dm.source.mean, dtype=torch.float32),
            torch.tensor(dm.source.std, dtype=torch.float32),
        )

    def normalize(self, view: View, mean: torch.Tensor, std: torch.Tensor) -> View:
        """One view normalized on the device."""
        raise NotImplementedError

    def shift(self, transform: Any, spec: str) -> Any:
        """``transform`` followed by the domain shift ``spec`` (``KIND:AMOUNT``)."""
        raise BadInputError(f"{type(self).__name__} data has no domain shifts; got {spec!r}")

    def settings(self) -> dict[str, Any]:
        """The constructor arguments as set (e.g. ``{"max_particles": 64}``)."""
        names = inspect.signature(type(self).__init__).parameters
        return {n: getattr(self, n) for n in names if n != "self" and hasattr(self, n)}

    @staticmethod
    def check_recipe(name: str) -> None:
        if name not in RECIPES:
            raise ValueError(f"Unknown recipe {name!r}; one of {list(RECIPES)}")


class ArrayModality(Modality):
    """A modality of :class:`~ssl_core.data.sources.ArraySource` data whose views are
    made a batch at a time (:meth:`collate`)."""

    #: The dataset items' field holding a sample.
    field = "sample"

    def collate(self, transform: Views) -> Any:
        """The loader's collation of items into views of ``transform``."""
        raise NotImplementedError

    def dataset(self, dm: DataModule, samples: list[Sample], transform: Views) -> Any:
        columns = dm.source.columns(dm.root, [p for p, _ in samples])
        data, collate = dm.source.load(dm.root), self.collate(transform)
        return IndexedDataset(data, samples, self.field, dm.on_bad_file, collate, columns)


class Images(Modality):
    """Images of any channel count, ``uint8`` until they reach the device.

    Args:
        size: Side of the default recipes' views (training and evaluation crops).
    """

    noun = "images"

    def __init__(self, size: int = 128) -> None:
        self.size = size

    def dataset(self, dm: DataModule, samples: list[Sample], transform: Any) -> SampleDataset:
        return SampleDataset(dm.root, samples, dm.source.read, transform, dm.on_bad_file)

    def recipe(self, name: str, dm: DataModule) -> Views:
        """SimCLR's views, FixMatch's weak/strong views, or the evaluation crop."""
        from ssl_core.transforms import EvalTransform, SimCLRTransform, WeakStrongTransform

        self.check_recipe(name)
        channels = dm.source.channels
        if name == "contrastive":
            return SimCLRTransform(self.size, channels=channels)
        if name == "eval":
            return EvalTransform(size=self.size)
        return WeakStrongTransform(self.size, channels, *WEAK_STRONG[name])

    @staticmethod
    def normalize(view: View, mean: torch.Tensor, std: torch.Tensor) -> View:
        """A ``uint8`` ``(B, C, H, W)`` batch to ``(x / 255 - mean) / std``; else unchanged."""
        if isinstance(view, torch.Tensor) and view.dtype == torch.uint8 and view.ndim == 4:
            m = mean.to(view.device).view(1, -1, 1, 1)
            s = std.to(view.device).view(1, -1, 1, 1)
            return (view.float().div_(255.0) - m) / s
        return view

    def shift(self, transform: Any, spec: str) -> Any:
        from ssl_core.transforms import ShiftTransform

        return ShiftTransform(transform, spec)
