"""Predicted masks on disk: what ``train predict`` writes for segmentation tasks and
``evaluate RUN`` reads.

Layout of ``RUN/masks/`` (``RUN``: ``trainer.default_root_dir``)::

    <id>.png         the prediction, the image's size: binary tasks 0 / 255
                     (foreground), more classes their class ids
    truth/<id>.png   the true mask the prediction is scored against (class ids, 255 =
                     ignore), when the test set has masks
    images/<id>.png  the image for the eye (uint8 grey or RGB, contrast stretched per
                     channel between its 0.5 and 99.5 percentiles)
    index.json       ids in dataset order, sizes, classes, encodings, checkpoint, model,
                     the data root and each image's source path (where the dataset says)
    config.yaml      the full config of the predict run

The true masks are written from the predict batches themselves (the masks the
datamodule reads for the test set), so ``evaluate RUN`` needs neither the data root nor
the project's reader. Under DDP each rank writes the PNGs of its images (each through a
temporary file, as the sampler may give an image to two ranks) and rank 0 writes
``index.json`` from the ranks' lists once all are done.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from ssl_core.data.images import BadImageError, decode, read_bytes
from ssl_core.embeddings import provenance

if TYPE_CHECKING:
    from ssl_core.data import DataModule


def write_png(path: Path, array: np.ndarray) -> None:
    """Write ``uint8`` ``(H, W)`` or RGB ``(H, W, 3)`` as PNG, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(array))
    if not ok:
        raise OSError(f"Cannot encode {path} as PNG")
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data.tobytes())
    os.replace(tmp, path)


def read_png(path: Path) -> np.ndarray:
    """A PNG as written by :func:`write_png` (RGB order for colour images); one that
    cannot be read is a :class:`~ssl_core.data.images.BadImageError` naming it."""
    array = decode(read_bytes(str(path)), str(path), rgb=False)
    if array is None:
        raise BadImageError(f"Cannot decode {path}: write the masks again (train predict)")
    return array


def display_image(image: torch.Tensor) -> np.ndarray:
    """An image ``(C, H, W)`` (normalized or not) for the eye: each channel stretched
    between its 0.5 and 99.5 percentiles to ``uint8``; 1 channel grey, else the first
    three channels as RGB (two channels: red and green)."""
    x = image.detach().float().cpu()
    x = x[:3] if x.shape[0] >= 3 else x
    flat = x.flatten(1)
    if flat.shape[1] > 4_000_000:  # quantile's input limit: a strided sample is enough
        flat = flat[:, :: flat.shape[1] // 4_000_000 + 1]
    low = flat.quantile(0.005, dim=1).view(-1, 1, 1)
    high = flat.quantile(0.995, dim=1).view(-1, 1, 1)
    x = ((x - low) / (high - low).clamp_min(1e-6)).clamp(0, 1)
    out = (x * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    if out.shape[2] == 1:
        return out[:, :, 0]
    if out.shape[2] == 2:
        out = np.concatenate([out, np.zeros_like(out[:, :, :1])], axis=2)
    return np.ascontiguousarray(out)


def encode_prediction(classes: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids ``(H, W)`` as written: binary 0 / 255, else the ids."""
    if num_classes == 2:
        return (classes > 0).astype(np.uint8) * 255
    return classes.astype(np.uint8)


def decode_prediction(png: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids of a written prediction (inverse of :func:`encode_prediction`)."""
    if num_classes == 2:
        return (png >= 128).astype(np.uint8)
    return png.astype(np.uint8)


class MaskWriter(BasePredictionWriter):
    """Write the predictions of ``train predict`` of a segmentation task as PNGs.

    The module's ``predict_step`` returns ``{"prediction": (B, H, W) class ids,
    "index": (B,)}`` (see :meth:`ssl_core.segmentation.base.SegmentationTask.predict_step`);
    ids come from the loader's dataset (``ids``), split names from the datamodule's
    ``predict_split_names``: the ``test`` split goes to ``masks/``, any other split to
    ``masks_<split>/``.

    Args:
        output_dir: Where to write the test split (default
            ``<trainer.default_root_dir>/masks``).
        config: YAML text of the run's config (the ``train`` CLI fills it in).
        save_truth: Also write the batches' true masks (``truth/``).
        save_images: Also write the images for the eye (``images/``; what ``evaluate``
            shows).
    """

    def __init__(
        self,
        output_dir: str | None = None,
        config: str | None = None,
        save_truth: bool = True,
        save_images: bool = True,
    ) -> None:
        super().__init__(write_interval="batch")
        self.output_dir = output_dir
        self.config = config
        self.save_truth = save_truth
        self.save_images = save_images
        self._written: dict[int, list[dict]] = {}

    # ---------------------------------------------------------------- places
    def _names(self, trainer) -> list[str]:
        loaders = trainer.predict_dataloaders
        n = len(loaders) if isinstance(loaders, list | tuple) else 1
        dm: DataModule | None = trainer.datamodule  # the data layer's contract
        names = list(dm.predict_split_names) if dm else ["test"] * n
        return names if len(names) == n else ["test"] + [f"split{i}" for i in range(1, n)]

    def directory(self, trainer, split: str = "test") -> Path:
        base = Path(trainer.default_root_dir)
        if split == "test":
            return Path(self.output_dir) if self.output_dir else base / "masks"
        return base / f"masks_{split}"

    @staticmethod
    def _dataset(trainer, dataloader_idx: int):
        loaders = trainer.predict_dataloaders
        loader = loaders[dataloader_idx] if isinstance(loaders, list | tuple) else loaders
        return loader.dataset

    # --------------------------------------------------------------- writing
    def on_predict_start(self, trainer, pl_module) -> None:
        self._written = {}
        if trainer.is_global_zero:
            for split in self._names(trainer):
                out = self.directory(trainer, split)
                if not (out / "index.json").is_file():
                    continue
                # an earlier run's masks: none of its files may stay
                for stale in ("truth", "images"):
                    shutil.rmtree(out / stale, ignore_errors=True)
                for old in out.glob("*.png"):
                    old.unlink()
                (out / "index.json").unlink()
        trainer.strategy.barrier("masks-clean")

    def write_on_batch_end(
        self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0
    ) -> None:
        if not isinstance(prediction, dict) or "prediction" not in prediction:
            raise TypeError(
                "MaskWriter needs predict_step to return {'prediction', 'index'}, not "
                f"{type(prediction).__name__}"
            )
        split = self._names(trainer)[dataloader_idx]
        out = self.directory(trainer, split)
        ids = getattr(self._dataset(trainer, dataloader_idx), "ids", None)
        num_classes = int(getattr(pl_module, "num_classes", 2))
        classes = prediction["prediction"].cpu().numpy()
        indices = prediction["index"].cpu().numpy().tolist()
        for i, index in enumerate(indices):
            name = str(ids[index]) if ids is not None else f"{index:06d}"
            write_png(out / f"{name}.png", encode_prediction(classes[i], num_classes))
            entry = {"index": int(index), "id": name, "size": list(classes[i].shape)}
            if self.save_truth and "mask" in batch:
                truth = batch["mask"][i].cpu().numpy().astype(np.uint8)
                write_png(out / "truth" / f"{name}.png", truth)
                entry["truth"] = True
            if self.save_images:
                write_png(out / "images" / f"{name}.png", display_image(batch["image"][i]))
            self._written.setdefault(dataloader_idx, []).append(entry)

    def on_predict_epoch_end(self, trainer, pl_module) -> None:
        names = self._names(trainer)
        for idx, split in enumerate(names):
            shard = self.directory(trainer, split) / f".written-rank{trainer.global_rank}.json"
            shard.parent.mkdir(parents=True, exist_ok=True)
            shard.write_text(json.dumps(self._written.get(idx, [])))
        trainer.strategy.barrier("masks-written")
        if trainer.is_global_zero:
            for idx, split in enumerate(names):
                self._write_index(trainer, pl_module, idx, split)
        trainer.strategy.barrier("masks-indexed")
        self._written = {}

    def _write_index(self, trainer, pl_module, idx: int, split: str) -> None:
        out = self.directory(trainer, split)
        entries = {}
        for shard in sorted(out.glob(".written-rank*.json")):
            for entry in json.loads(shard.read_text()):
                entries[entry["index"]] = entry
            shard.unlink()
        entries = [entries[i] for i in sorted(entries)]
        dataset = self._dataset(trainer, idx)
        dm: DataModule | None = trainer.datamodule
        samples = getattr(dataset, "samples", None)
        root = getattr(dataset, "root", None)
        for entry in entries:
            if samples is not None:
                entry["source"] = str(samples[entry["index"]][0])
        num_classes = int(getattr(pl_module, "num_classes", 2))
        class_names = dm.class_names if dm else None
        index = {
            **provenance(trainer, pl_module, out, self.config),
            "split": split,
            "num_classes": num_classes,
            "class_names": list(class_names) if class_names is not None else None,
            "ignore_index": int(getattr(pl_module, "ignore_index", 255)),
            "prediction_encoding": "0 background, 255 foreground"
            if num_classes == 2
            else "class ids",
            "truth": "truth/" if any(e.get("truth") for e in entries) else None,
            "truth_encoding": "class ids, ignore_index = not scored",
            "images": "images/" if self.save_images else None,
            "complete": len(entries) == len(dataset) if hasattr(dataset, "__len__") else None,
            "dataset_size": len(dataset) if hasattr(dataset, "__len__") else None,
            "root": str(root) if root is not None else None,
            "masks": entries,
        }
        (out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
