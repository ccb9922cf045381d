"""Datasets with named fields, and a sampler that gives every sample its own seed.

An item is a dict: ``{"image": (C, H, W) uint8}`` (one view) or ``{"views": [...]}``, plus
``"label"`` (``-1``: unlabeled) and ``"index"``; only ``image``/``views`` are normalized.
Why a seed per sample: docs/history.md, "Validation split and augmentation seeds".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset, Sampler, default_collate

from ssl_core.augment import to_tensor
from ssl_core.data.images import BadImageError
from ssl_core.data.sources import BadDataError
from ssl_core.data.views import seed_transform
from ssl_core.errors import BadInputError

BAD_FILES = "bad_files"  # batch field: paths skipped in this batch (on_bad_file="skip")


def check_choice(name: str, value: str, choices: tuple[str, ...] = ("error", "skip")) -> None:
    if value not in choices:
        raise BadInputError(f"{name} must be one of {choices}, not {value!r}")


class SeededSampler(Sampler[tuple[int, int]]):
    """Yields ``(index, seed)`` for ``size`` samples: the indices (shuffled or in order),
    each with an augmentation seed, drawn from ``(seed, epoch)``; each pass counts as the
    next epoch unless :meth:`set_epoch` says otherwise. ``seed`` defaults to one from
    ``seed_everything``'s and ``size`` (a resumed run gets the same), else a random one.
    """

    def __init__(self, size: int, shuffle: bool = True, seed: int | None = None) -> None:
        self.size = size
        self.shuffle = shuffle
        if seed is None and "PL_GLOBAL_SEED" in os.environ:
            seed = int(os.environ["PL_GLOBAL_SEED"]) * 1_000_003 + size
        self.seed = int(torch.randint(2**31, ()).item()) if seed is None else int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[tuple[int, int]]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator) if self.shuffle else None
        seeds = torch.randint(2**31, (self.size,), generator=generator).tolist()
        self.epoch += 1
        indices = order.tolist() if order is not None else range(self.size)
        yield from ((index, seeds[index]) for index in indices)


class _Listed(Dataset):
    """A dataset of ``samples``: ``(path or id, target)`` pairs."""

    samples: list[tuple[str, Any]]

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.samples]

    def __len__(self) -> int:
        return len(self.samples)


class SampleDataset(_Listed):
    """Samples listed as ``(relative path, target)`` under a root: the one dataset of
    every file-based task.

    Args:
        root: The data root the paths are relative to.
        samples: ``(path, target)`` pairs; target ``None`` for an unlabeled sample.
        read: ``read(root, path)`` -> the sample (images: ``uint8`` ``(H, W, C)``).
        transform: The sample -> one view (field ``image``) or a list (``views``);
            default: the image as a tensor. With ``read_target``:
            ``transform(sample, target)`` -> the item's fields.
        on_bad_file: An unreadable sample (:class:`BadImageError`): ``"error"`` ends the
            run naming it; ``"skip"`` names it in its batch's ``bad_files`` instead.
        read_target: ``read_target(root, target, sample)`` -> the target's data (a mask).
        ids: One name per sample (default: the file's stem).
    """

    def __init__(
        self,
        root: str | Path,
        samples: Sequence[tuple[str, Any]],
        read: Callable[[Path, str], Any],
        transform: Callable[..., Any] | None = None,
        on_bad_file: str = "error",
        read_target: Callable[[Path, Any, Any], Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> None:
        check_choice("on_bad_file", on_bad_file)
        self.root = Path(root)
        self.samples = list(samples)
        self.read = read
        self.transform = transform or to_tensor
        self.on_bad_file = on_bad_file
        self.read_target = read_target
        self.ids = list(ids) if ids is not None else [Path(p).stem for p, _ in self.samples]

    @property
    def targets(self) -> list[Any]:
        return [target for _, target in self.samples]

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        index, seed = item if isinstance(item, tuple) else (item, None)
        if seed is not None:
            seed_transform(self.transform, seed)
        path, target = self.samples[index]
        try:
            sample = self.read(self.root, path)
            if self.read_target is not None and target is not None:
                target = self.read_target(self.root, target, sample)
        except BadImageError as err:
            if self.on_bad_file == "skip":
                return {BAD_FILES: str(self.root / path)}
            raise type(err)(
                f"{err}. Remove or replace the file, or leave such samples out with "
                "--data.on_bad_file skip (they are counted in the log)."
            ) from None
        if self.read_target is not None:
            return {**self.transform(sample, target), "index": index}
        out = self.transform(sample)
        label = -1 if target is None else target
        return {"views" if isinstance(out, list) else "image": out, "label": label, "index": index}


def collate(
    items: list[dict[str, Any]], batch: Callable[[list[dict[str, Any]]], dict] = default_collate
) -> dict[str, Any]:
    """``batch`` of the readable items; skipped ones are named under ``bad_files``."""
    good = [item for item in items if BAD_FILES not in item]
    bad = [item[BAD_FILES] for item in items if BAD_FILES in item]
    out = batch(good) if good else {}
    if bad:
        out[BAD_FILES] = bad
    return out


class IndexedDataset(_Listed):
    """``(id, target)`` samples of an :class:`~ssl_core.data.sources.ArraySource`'s opened
    ``data``; items ``{field: sample, "label", "index", "seed"}`` (a plain index is its own
    seed), batched by ``collate_fn``; ``columns``: per-sample values for the embeddings;
    bad samples as in :class:`SampleDataset`."""

    def __init__(
        self,
        data: Any,
        samples: Sequence[tuple[str, Any]],
        field: str = "sample",
        on_bad_file: str = "error",
        collate_fn: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
        columns: dict[str, Any] | None = None,
    ) -> None:
        check_choice("on_bad_file", on_bad_file)
        self.data, self.samples, self.field = data, list(samples), field
        self.indices = [data.index(p) for p, _ in self.samples]
        self.labels = [-1 if t is None else int(t) for _, t in self.samples]
        self.on_bad_file = on_bad_file
        self.collate_fn = collate_fn or collate
        self.columns = columns or {}

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        index, seed = item if isinstance(item, tuple) else (item, item)
        try:
            sample = self.data.read(self.indices[index])
        except BadDataError as err:
            if self.on_bad_file == "skip":
                return {BAD_FILES: str(err)}
            raise type(err)(
                f"{err}. Leave such samples out with --data.on_bad_file skip (they are counted)."
            ) from None
        return {self.field: sample, "label": self.labels[index], "index": index, "seed": int(seed)}


class BatchCollate:
    """Collation that makes the views (recipe ``views``) of a whole batch at once with
    :meth:`views_of` from the items' ``field``; skipped items are named under ``bad_files``."""

    def __init__(self, views: Any, field: str) -> None:
        self.views, self.field = views, field

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return collate(items, self.batch)

    def views_of(self, samples: list[Any], seeds: list[int]) -> Any:
        """The views of ``samples``, each from its seed (the modality's)."""
        raise NotImplementedError

    def batch(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The batch of readable items: the views, ``label`` and ``index``."""
        out = self.views_of([item[self.field] for item in items], [item["seed"] for item in items])
        fields = {k: torch.tensor([item[k] for item in items]) for k in ("label", "index")}
        return {self.views.field: out, **fields}
