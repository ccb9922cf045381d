"""Datasets with named fields, and a sampler that gives every sample its own seed.

A dataset item is a dict (:class:`SampleDataset`): ``{"image": (C, H, W) uint8}`` for one
deterministic view or ``{"views": [(C, H, W) uint8, ...]}`` for augmented views, plus
``"label"`` (``-1`` for an unlabeled sample) and ``"index"`` (its position in the
dataset); a task whose targets are files (segmentation masks) makes its own fields. Only the
``image``/``views`` fields are ever normalized (the modality's, on the device),
so a segmentation ``mask`` can never be normalized as if it were an image.

Augmentation seeds. albumentations 2.0.8 copies one random generator into every
dataloader worker, so two workers draw the same parameters (measured: identical views
of one image in worker 0's and worker 1's first batches). :class:`SeededSampler` draws,
in the main process, a shuffled order *and one seed per sample* from ``(seed, epoch)``;
the dataset reseeds its transform with that seed before making the sample's views.
A sample's views then depend on its seed alone: not on the worker that made them, the
number of workers, or whether a Trainer seeded the workers, and a run can be resumed
to the same views from the epoch number.
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
from ssl_core.data.views import seed_transform

BAD_FILES = "bad_files"  # batch field: paths skipped in this batch (on_bad_file="skip")


class SeededSampler(Sampler[tuple[int, int]]):
    """Yields ``(index, seed)``: the dataset's indices (shuffled or in order), each with
    an augmentation seed, both drawn from ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before every epoch; without it each pass over the
    sampler counts as the next epoch, so a plain loop gets new views every pass too.

    Args:
        size: Number of samples in the dataset.
        shuffle: Shuffle the order (training) or keep it (evaluation).
        seed: Base seed (default: from ``seed_everything``'s seed and ``size``, so a
            resumed run gets the same one; without ``seed_everything``, a random one).
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
        self.epoch += 1  # overwritten by set_epoch when a Trainer drives the loop
        indices = order.tolist() if order is not None else range(self.size)
        yield from ((index, seeds[index]) for index in indices)


class SampleDataset(Dataset):
    """Samples listed as ``(relative path, target)`` under a root, read by ``read``: the
    one dataset of every task.

    Args:
        root: The data root the paths are relative to.
        samples: ``(path, target)`` pairs; target ``None`` for an unlabeled sample.
        read: ``read(root, path)`` -> the sample (a source's ``read``: ``uint8``
            ``(H, W, C)`` for images).
        transform: Without ``read_target``: callable on the sample giving a tensor (one
            view, field ``image``) or a list of tensors (views, field ``views``), the
            target going to ``label`` (``-1`` when ``None``); default: the image as a
            tensor. With ``read_target``: ``transform(sample, target)`` -> the item's
            fields (``target`` is ``None`` for an unlabeled sample).
        on_bad_file: A sample that cannot be read (:class:`BadImageError`): ``"error"``
            ends the run with one message naming it; ``"skip"`` leaves it out of its batch
            (:func:`collate`) and names it in the batch's ``bad_files`` field, which the
            methods count in the log (``train/skipped_files``).
        read_target: ``read_target(root, target, sample)`` -> the target's data (e.g. a
            mask), for targets that are references to files.
        ids: One name per sample (default: the file's stem), e.g. for written masks.
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
        if on_bad_file not in ("error", "skip"):
            raise ValueError(f"on_bad_file must be 'error' or 'skip', not {on_bad_file!r}")
        self.root = Path(root)
        self.samples = list(samples)
        self.read = read
        self.transform = transform or to_tensor
        self.on_bad_file = on_bad_file
        self.read_target = read_target
        self.ids = list(ids) if ids is not None else [Path(p).stem for p, _ in self.samples]

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.samples]

    @property
    def targets(self) -> list[Any]:
        return [target for _, target in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

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
    """The batch of the readable items (``batch(items)``, by default PyTorch's
    collation; a modality's own for padded samples); skipped ones (see ``on_bad_file``)
    are left out and their names listed under ``bad_files``."""
    good = [item for item in items if BAD_FILES not in item]
    bad = [item[BAD_FILES] for item in items if BAD_FILES in item]
    out = batch(good) if good else {}
    if bad:
        out[BAD_FILES] = bad
    return out


class IndexedDataset(Dataset):
    """Samples of an :class:`~ssl_core.data.sources.ArraySource`'s data, read by position
    (``data.read(i)``: jets in arrays, series in a text file), listed as ``(id, target)``;
    items ``{<field>: sample, "label", "index", "seed"}``, indexed with the sampler's
    ``(index, seed)`` or a plain index (seed = index); the bad-sample rule of
    :class:`SampleDataset` (``data.read`` raises
    :class:`~ssl_core.data.sources.BadDataError`).

    Args:
        data: The opened data (``read(i)``, ``index(id)``).
        samples: ``(id, target)`` pairs; target ``None`` for an unlabeled sample.
        field: The item's field holding what ``read`` returned.
        on_bad_file: ``"error"``: a bad sample ends the run with one line naming it;
            ``"skip"``: it is left out of its batch and named under ``bad_files``.
        collate_fn: How the loader batches the items (a modality's :class:`BatchCollate`).
        columns: Per-sample values by position (e.g. a window's SNR), for the embeddings.
    """

    def __init__(
        self,
        data: Any,
        samples: Sequence[tuple[str, Any]],
        field: str = "sample",
        on_bad_file: str = "error",
        collate_fn: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
        columns: dict[str, Any] | None = None,
    ) -> None:
        if on_bad_file not in ("error", "skip"):
            raise ValueError(f"on_bad_file must be 'error' or 'skip', not {on_bad_file!r}")
        self.data, self.samples, self.field = data, list(samples), field
        self.indices = [data.index(p) for p, _ in self.samples]
        self.labels = [-1 if t is None else int(t) for _, t in self.samples]
        self.on_bad_file = on_bad_file
        self.collate_fn = collate_fn or collate
        self.columns = columns or {}

    @property
    def paths(self) -> list[str]:
        """Sample ids, the names embeddings and split files use."""
        return [p for p, _ in self.samples]

    @property
    def targets(self) -> list[int]:
        return self.labels

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        from ssl_core.data.sources import BadDataError

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
    """Collation that makes the views of a whole batch at once (jets, series): the
    readable items' samples and seeds go through :meth:`views_of` together; skipped items
    are named under ``bad_files`` (:func:`collate`).

    Args:
        views: The recipe (a :class:`~ssl_core.data.views.Views`): its views go to the
            batch field ``views``, or ``image`` for a single one.
        field: The items' field holding the sample.
    """

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
