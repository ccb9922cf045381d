"""Predicted masks on disk (``RUN/masks/``: ``<id>.png``, ``truth/``, ``images/``,
``index.json``, ``config.yaml``; docs/segmentation.md): what ``train predict`` writes and
``evaluate RUN`` reads. Under DDP each rank writes its PNGs and rank 0 ``index.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from ssl_core.data.images import BadImageError, decode, read_bytes, write_image
from ssl_core.embeddings import provenance

if TYPE_CHECKING:
    from ssl_core.data import DataModule


def read_png(path: Path) -> np.ndarray:
    """A PNG as :func:`~ssl_core.data.images.write_image` writes it (RGB order);
    :class:`BadImageError` if unreadable."""
    array = decode(read_bytes(str(path)), str(path), rgb=False)
    if array is None:
        raise BadImageError(f"Cannot decode {path}: write the masks again (train predict)")
    return array


def display_image(image: torch.Tensor) -> np.ndarray:
    """``uint8`` grey or RGB (first 3 channels) of ``(C, H, W)``, 0.5-99.5 % stretched."""
    x = image.detach().float().cpu()[:3]
    flat = x.flatten(1)
    if flat.shape[1] > 4_000_000:  # quantile's input limit: a strided sample is enough
        flat = flat[:, :: flat.shape[1] // 4_000_000 + 1]
    low, high = flat.quantile(torch.tensor([0.005, 0.995]), dim=1)[..., None, None]
    x = ((x - low) / (high - low).clamp_min(1e-6)).clamp(0, 1)
    if len(x) == 2:  # red and green
        x = torch.cat([x, torch.zeros_like(x[:1])])
    out = (x * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return out[:, :, 0] if len(x) == 1 else np.ascontiguousarray(out)


def encode_prediction(classes: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids ``(H, W)`` as written: binary 0 / 255, else the ids."""
    return (classes > 0).astype(np.uint8) * 255 if num_classes == 2 else classes.astype(np.uint8)


def decode_prediction(png: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids of a written prediction (inverse of :func:`encode_prediction`)."""
    return (png >= 128).astype(np.uint8) if num_classes == 2 else png.astype(np.uint8)


class MaskWriter(BasePredictionWriter):
    """Write ``predict_step``'s ``{"prediction": (B, H, W) class ids, "index": (B,)}`` of the
    one predict loader (the test images) as PNGs named by its dataset's ``ids``.

    Args:
        output_dir: Where to write (default ``<trainer.default_root_dir>/masks``).
        config: YAML text of the run's config (the ``train`` CLI fills it in).
        save_truth: Also write the batches' true masks (``truth/``).
        save_images: Also write the images for the eye (``images/``).
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
        self._written: list[dict] = []

    def directory(self, trainer) -> Path:
        return Path(self.output_dir or Path(trainer.default_root_dir) / "masks")

    @staticmethod
    def _dataset(trainer):
        loaders = trainer.predict_dataloaders
        if isinstance(loaders, list | tuple):
            if len(loaders) != 1:  # masks/ holds one split's masks
                raise ValueError(f"MaskWriter writes one predict split, not {len(loaders)}")
            loaders = loaders[0]
        return loaders.dataset

    def on_predict_start(self, trainer, pl_module) -> None:
        self._written = []
        out = self.directory(trainer)
        if trainer.is_global_zero and (out / "index.json").is_file():
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
        out = self.directory(trainer)
        ids = getattr(self._dataset(trainer), "ids", None)
        num_classes = int(getattr(pl_module, "num_classes", 2))
        classes = prediction["prediction"].cpu().numpy()
        for i, index in enumerate(prediction["index"].tolist()):
            name = str(ids[index]) if ids is not None else f"{index:06d}"
            write_image(out / f"{name}.png", encode_prediction(classes[i], num_classes))
            entry = {"index": int(index), "id": name, "size": list(classes[i].shape)}
            if self.save_truth and "mask" in batch:
                truth = batch["mask"][i].cpu().numpy().astype(np.uint8)
                write_image(out / "truth" / f"{name}.png", truth)
                entry["truth"] = True
            if self.save_images:
                write_image(out / "images" / f"{name}.png", display_image(batch["image"][i]))
            self._written.append(entry)

    def on_predict_epoch_end(self, trainer, pl_module) -> None:
        out = self.directory(trainer)
        out.mkdir(parents=True, exist_ok=True)
        (out / f".written-rank{trainer.global_rank}.json").write_text(json.dumps(self._written))
        trainer.strategy.barrier("masks-written")
        if trainer.is_global_zero:
            self._write_index(trainer, pl_module, out)
        trainer.strategy.barrier("masks-indexed")
        self._written = []

    def _write_index(self, trainer, pl_module, out: Path) -> None:
        entries = {}
        for shard in sorted(out.glob(".written-rank*.json")):
            for entry in json.loads(shard.read_text()):
                entries[entry["index"]] = entry
            shard.unlink()
        entries = [entries[i] for i in sorted(entries)]
        dataset = self._dataset(trainer)
        dm: DataModule | None = trainer.datamodule
        samples, root = getattr(dataset, "samples", None), getattr(dataset, "root", None)
        for entry in entries if samples is not None else []:
            entry["source"] = str(samples[entry["index"]][0])
        k = int(getattr(pl_module, "num_classes", 2))
        index = {
            **provenance(trainer, pl_module, out, self.config),
            "split": "test",
            "num_classes": k,
            "class_names": list(dm.class_names) if dm else None,
            "ignore_index": int(getattr(pl_module, "ignore_index", 255)),
            "prediction_encoding": "0 background, 255 foreground" if k == 2 else "class ids",
            "truth": "truth/" if any(e.get("truth") for e in entries) else None,
            "truth_encoding": "class ids, ignore_index = not scored",
            "images": "images/" if self.save_images else None,
            "complete": len(entries) == len(dataset) if hasattr(dataset, "__len__") else None,
            "dataset_size": len(dataset) if hasattr(dataset, "__len__") else None,
            "root": str(root) if root is not None else None,
            "masks": entries,
        }
        (out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
