"""Embeddings on disk: what ``train predict`` writes and ``evaluate`` reads. The layout
and the merge of DDP ranks: docs/evaluation.md, "The embeddings directory".
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from lightning.pytorch.callbacks import BasePredictionWriter

from ssl_core.errors import InputError

if TYPE_CHECKING:
    from ssl_core.data import DataModule

FORMAT_VERSION = 1


class EmbeddingsError(InputError, ValueError):
    """An embeddings directory is missing, malformed, or its parts do not match."""


@dataclass
class SplitEmbeddings:
    """The rows of one split (the arrays: docs/evaluation.md)."""

    name: str
    features: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    labeled: np.ndarray
    projection: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def space(self, name: str) -> np.ndarray:
        """``features`` or ``projection``."""
        value = getattr(self, name, None)
        if value is None:
            raise EmbeddingsError(f"Split {self.name} has no {name!r} embeddings")
        return value


def merge_shards(
    shards: Sequence[dict[str, np.ndarray]], size: int | None = None
) -> dict[str, np.ndarray]:
    """Merge per-rank rows (dicts of arrays with ``indices``) into one row per dataset
    position, sorted; with ``size``, the positions must be exactly ``0 .. size-1``."""
    shards = [s for s in shards if len(s["indices"])]
    if not shards:
        raise EmbeddingsError("No predictions to merge (empty dataloader?)")
    merged = {k: np.concatenate([s[k] for s in shards]) for k in shards[0]}
    _, first = np.unique(merged["indices"], return_index=True)  # sorted, duplicates dropped
    merged = {k: v[first] for k, v in merged.items()}
    if size is not None and not np.array_equal(merged["indices"], np.arange(size)):
        missing = np.setdiff1d(np.arange(size), merged["indices"])
        raise EmbeddingsError(
            f"Predictions cover {len(merged['indices'])} of {size} samples "
            f"(missing positions, first ones: {missing[:10].tolist()}); "
            "was the predict run limited (limit_predict_batches)?"
        )
    return merged


def write_split(
    directory: Path,
    name: str,
    rows: dict[str, np.ndarray],
    ids: Sequence[str] | None = None,
    labeled: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write ``<name>.npz`` and ``<name>.csv``; return the split's entry of ``meta.json``."""
    indices = rows["indices"].astype(np.int64)
    n = len(indices)
    ids_arr = np.asarray([str(ids[i] if ids is not None else i) for i in indices])
    labeled_arr = np.ones(n, bool) if labeled is None else np.asarray(labeled, bool)[indices]
    arrays = {
        "features": rows["features"].astype(np.float32),
        "labels": rows["labels"].astype(np.int64),
        "ids": ids_arr,
        "indices": indices,
        "labeled": labeled_arr,
    }
    arrays |= {k: rows[k].astype(np.float32) for k in ("projection", "logits") if k in rows}
    arrays.update({k: v for k, v in rows.items() if k not in arrays})  # a dataset's columns
    np.savez(directory / f"{name}.npz", **arrays)
    table = pd.DataFrame({"index": indices, "id": ids_arr, "label": arrays["labels"]})
    if class_names is not None:
        names = np.asarray(list(class_names) + [""])  # -1 (no label) -> ""
        table["class_name"] = names[np.where(arrays["labels"] >= 0, arrays["labels"], -1)]
    table["split"] = name
    table["labeled"] = labeled_arr
    if "projection" in arrays:  # one block of columns (one insert per column fragments it)
        table = pd.concat([table, pd.DataFrame(arrays["projection"]).add_prefix("proj_")], axis=1)
    table.to_csv(directory / f"{name}.csv", index=False)
    return {
        "rows": n,
        "npz": f"{name}.npz",
        "csv": f"{name}.csv",
        "feature_dim": int(arrays["features"].shape[1]),
        "projection_dim": int(arrays["projection"].shape[1]) if "projection" in arrays else None,
        "labeled_rows": int(labeled_arr.sum()),
    }


class EmbeddingWriter(BasePredictionWriter):
    """Write the predictions of ``train predict`` (tensors ``{"features", "projection"?,
    "labels", "indices"}`` per batch) as an embeddings directory; split names from the
    datamodule's ``predict_split_names``, ids from each dataset's ``paths``.

    Args:
        output_dir: Where to write (default: ``<trainer.default_root_dir>/embeddings``).
        config: YAML text of the run's config (the ``train`` CLI fills it in).
    """

    def __init__(self, output_dir: str | None = None, config: str | None = None) -> None:
        super().__init__(write_interval="batch")
        self.output_dir = output_dir
        self.config = config
        self._rows: dict[int, list[dict[str, np.ndarray]]] = {}

    def on_predict_start(self, trainer, pl_module) -> None:
        self._rows = {}

    def write_on_batch_end(
        self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0
    ) -> None:
        if not isinstance(prediction, dict) or "indices" not in prediction:
            raise EmbeddingsError(
                "EmbeddingWriter needs predict_step to return a dict with 'features', 'labels' "
                f"and 'indices', not {type(prediction).__name__}"
            )
        rows = {k: v.detach().cpu().numpy() for k, v in prediction.items()}
        self._rows.setdefault(dataloader_idx, []).append(rows)

    def on_predict_epoch_end(self, trainer, pl_module) -> None:
        out = Path(self.output_dir or Path(trainer.default_root_dir) / "embeddings")
        shard_dir = out / ".shards"
        if trainer.is_global_zero and shard_dir.exists():
            shutil.rmtree(shard_dir)
        trainer.strategy.barrier("embeddings-clean")
        shard_dir.mkdir(parents=True, exist_ok=True)
        for idx, batches in self._rows.items():
            rows = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
            np.savez(shard_dir / f"loader{idx}-rank{trainer.global_rank}.npz", **rows)
        trainer.strategy.barrier("embeddings-shards")
        if trainer.is_global_zero:
            self._merge(trainer, pl_module, out, shard_dir)
            shutil.rmtree(shard_dir)
        trainer.strategy.barrier("embeddings-merged")
        self._rows = {}

    def _merge(self, trainer, pl_module, out: Path, shard_dir: Path) -> None:
        dm: DataModule = trainer.datamodule  # the data layer's contract
        loaders = trainer.predict_dataloaders
        loaders = loaders if isinstance(loaders, list | tuple) else [loaders]
        names = list(dm.predict_split_names)
        if len(names) != len(loaders):
            raise EmbeddingsError(f"{len(loaders)} predict dataloaders but split names {names}")
        label_split, class_names = dm.label_split, dm.class_names
        labeled_paths = {p for p, _ in label_split.labeled} if label_split is not None else None
        splits, classes = {}, {}
        for idx, (name, loader) in enumerate(zip(names, loaders, strict=True)):
            shards = [dict(np.load(f)) for f in sorted(shard_dir.glob(f"loader{idx}-rank*.npz"))]
            if not shards:
                raise EmbeddingsError(f"No predictions for split {name} (dataloader {idx})")
            dataset = loader.dataset
            rows = merge_shards(shards, size=len(dataset) if hasattr(dataset, "__len__") else None)
            ids = getattr(dataset, "paths", None)
            for key, values in getattr(dataset, "columns", {}).items():  # e.g. a window's SNR
                rows[key] = np.asarray(values)[rows["indices"]]
            labeled = None
            if name == "train" and labeled_paths is not None and ids is not None:
                labeled = np.array([p in labeled_paths for p in ids])
            elif name != "train":
                labeled = np.zeros(len(ids) if ids is not None else rows["indices"].max() + 1, bool)
            splits[name] = write_split(out, name, rows, ids, labeled, class_names)
            classes[name] = set(rows["labels"].astype(np.int64).tolist())
        unseen = classes.get("test", set()) - classes.get("train", set())
        meta = {
            **provenance(trainer, pl_module, out, self.config),
            "label_split_fraction": label_split.fraction if label_split is not None else None,
            "exclude_classes": list(dm.exclude_classes),
            # classes of the test set that training never saw: the anomalies of evaluate
            "held_out_labels": sorted(c for c in unseen if c >= 0),
            "class_names": list(class_names) if class_names is not None else None,
            "shift": dm.shift,
            "signal_class": dm.source.signal_class,
            "evaluators": list(dm.source.evaluators),
            "splits": splits,
        }
        (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def provenance(trainer, pl_module, out: Path, config: str | None) -> dict[str, Any]:
    """What every predict writer records of its run (and ``out/config.yaml``)."""
    dm = trainer.datamodule
    if config:
        (out / "config.yaml").write_text(config)
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "checkpoint": str(trainer.ckpt_path) if trainer.ckpt_path else None,
        "config": "config.yaml" if config else None,
        "model": f"{type(pl_module).__module__}.{type(pl_module).__qualname__}",
        "datamodule": f"{type(dm).__module__}.{type(dm).__qualname__}" if dm else None,
        "label_split": dm.split if dm else None,
        "data_root": str(Path(dm.root).resolve()) if dm else None,
        "test_on": getattr(dm, "test_on", "test") if dm else None,
        "world_size": trainer.world_size,
    }


def _load_split(directory: Path, name: str) -> SplitEmbeddings:
    path = directory / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise EmbeddingsError(
            f"Cannot read {path}: {err}; write it again (train predict)"
        ) from None
    missing = [k for k in ("features", "labels", "ids") if k not in arrays]
    if missing:
        raise EmbeddingsError(f"{path} lacks arrays {missing} (has {sorted(arrays)})")
    n = len(arrays["labels"])
    for key in ("features", "projection"):
        if key in arrays and arrays[key].ndim != 2:
            raise EmbeddingsError(
                f"{path}: {key} must be 2-D (N, D), not shape {arrays[key].shape}"
            )
    for key, value in arrays.items():
        if len(value) != n:
            raise EmbeddingsError(
                f"{path}: {key} has {len(value)} rows but labels has {n}; the file is corrupt"
            )
    for key in ("features", "projection"):
        if key in arrays and not np.isfinite(arrays[key]).all():
            raise EmbeddingsError(f"{path}: {key} holds NaN or inf (diverged model?)")
    if n == 0:
        raise EmbeddingsError(f"{path} has no rows")
    return SplitEmbeddings(
        name=name,
        features=arrays["features"].astype(np.float32),
        labels=arrays["labels"].astype(np.int64),
        ids=arrays["ids"].astype(str),
        labeled=arrays.get("labeled", np.ones(n, bool)).astype(bool),
        projection=arrays["projection"].astype(np.float32) if "projection" in arrays else None,
    )


def load_logits(directory: Path, split: str, rows: int) -> np.ndarray | None:
    """The classifier's logits ``(N, C)`` of ``split`` (float64), ``None`` when not written."""
    path = Path(directory) / f"{split}.npz"
    with np.load(path, allow_pickle=False) as data:
        if "logits" not in data.files:
            return None
        logits = np.asarray(data["logits"], dtype=np.float64)
    if logits.ndim != 2 or len(logits) != rows or not np.isfinite(logits).all():
        raise EmbeddingsError(
            f"{path}: logits must be finite (N, C) with N = {rows}, not shape {logits.shape}"
        )
    return logits


def load_embeddings(
    directory: str | Path, scored_only: bool = False
) -> tuple[dict[str, SplitEmbeddings], dict[str, Any]]:
    """Read and check an embeddings directory; return ``({split: rows}, meta)``.
    ``scored_only``: a run that fits nothing (``--data.test_on all``): no ``train`` split
    needed, and ``test`` rows may lack labels.

    Raises:
        EmbeddingsError: with what is wrong and how to get a good directory.
    """
    directory = Path(directory)
    hint = (
        "Write one with `uv run --package <project> train predict --config CFG --ckpt_path CKPT "
        "--trainer.default_root_dir OUT` (it writes OUT/embeddings/)."
    )
    if not directory.is_dir():
        raise EmbeddingsError(f"No embeddings directory {directory}. {hint}")
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise EmbeddingsError(f"{directory} has no meta.json: not an embeddings directory. {hint}")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as err:
        raise EmbeddingsError(f"{meta_path} is not valid JSON: {err}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("splits"), dict):
        raise EmbeddingsError(f"{meta_path} has no 'splits' table: not written by EmbeddingWriter?")
    if meta.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise EmbeddingsError(
            f"{meta_path} has format {meta['format_version']}, newer than this ssl-core"
        )
    required = ("test",) if scored_only else ("train", "test")
    if not scored_only and meta.get("test_on") == "all":
        raise EmbeddingsError(
            f"{directory} scored every sample of {meta.get('data_root')} (test_on all) and "
            "fits nothing there: compare it with the run it transfers from, `python -m "
            f"ssl_core.evaluate.shift REFERENCE_RUN {directory.parent}`"
        )
    for name in required:
        if name not in meta["splits"] or not (directory / f"{name}.npz").is_file():
            raise EmbeddingsError(f"{directory} lacks the {name} split ({name}.npz). {hint}")
    splits = {
        name: _load_split(directory, name)
        for name in meta["splits"]
        if name in required or (directory / f"{name}.npz").is_file()
    }
    train = splits.get("train", splits["test"])
    for name, split in splits.items():
        expected = meta["splits"][name].get("rows")
        if expected is not None and expected != len(split):
            raise EmbeddingsError(
                f"{name}.npz has {len(split)} rows but meta.json says {expected}: files from "
                "different predict runs mixed?"
            )
        for space in ("features", "projection"):
            arrays = [getattr(train, space), getattr(split, space)]
            widths = [None if x is None else x.shape[1] for x in arrays]
            if widths[0] != widths[1]:
                raise EmbeddingsError(
                    f"{space} widths differ between train ({widths[0]}) and {name} ({widths[1]}): "
                    "the splits come from different models"
                )
    if "test_shifted" in splits and not np.array_equal(
        splits["test_shifted"].ids, splits["test"].ids
    ):
        raise EmbeddingsError(
            "test_shifted.npz does not hold the same samples as test.npz, in the same order"
        )
    if scored_only:
        return splits, meta
    if (splits["test"].labels < 0).any():
        raise EmbeddingsError(
            "test.npz has unlabeled rows (label -1): evaluation needs test labels"
        )
    if not ((train.labels >= 0) & train.labeled).any():
        raise EmbeddingsError("train.npz has no labeled rows: nothing to fit kNN or probes on")
    return splits, meta
