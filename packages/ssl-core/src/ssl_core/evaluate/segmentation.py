"""What ``evaluate RUN`` measures of a segmentation run's masks (``RUN/masks/``, see
:mod:`ssl_core.segmentation.writer`: each ``<id>.png`` against ``truth/<id>.png``).
Details: docs/segmentation.md, "Inference, `train predict`, `evaluate`".
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch

from ssl_core.errors import InputError
from ssl_core.segmentation.metrics import class_counts, dataset_scores, image_scores, iou_dice
from ssl_core.segmentation.writer import decode_prediction, read_png

TP_COLOUR = (200, 200, 200)
FP_COLOUR = (230, 159, 0)  # orange
FN_COLOUR = (0, 114, 178)  # blue
WRONG_CLASS_COLOUR = (204, 121, 167)  # reddish purple: foreground of another class


class MasksError(InputError, ValueError):
    """A masks directory is missing, malformed, or its parts do not match."""


def load_masks(run, masks: Path) -> None:
    """Point ``run`` at a segmentation run's masks (``meta``: their ``index.json``, checked)."""
    path = masks / "index.json"  # evaluate found it
    index = json.loads(path.read_text())
    if not index.get("masks"):
        raise MasksError(
            f"{path} lists no masks. Write one with `uv run --package <project> train predict "
            "--config CFG --ckpt_path CKPT --trainer.default_root_dir RUN` (it writes RUN/masks/)."
        )
    if not index.get("truth"):
        raise MasksError(
            f"{path}: the predicted images had no true masks (truth/), nothing to score"
        )
    run.masks, run.meta, run.class_names = masks, index, index.get("class_names")
    if index.get("complete") is False:
        run.log(f"masks cover {len(index['masks'])} of {index.get('dataset_size')} test images")


def error_map(pred: np.ndarray, truth: np.ndarray, ignore_index: int = 255) -> np.ndarray:
    """RGB ``uint8`` ``(H, W, 3)`` in the ``*_COLOUR`` above; right background black."""
    out = np.zeros((*truth.shape, 3), np.uint8)
    valid = truth != ignore_index
    fg_t, fg_p = (truth > 0) & valid, (pred > 0) & valid
    out[fg_t & (pred == truth)] = TP_COLOUR
    out[fg_p & ~fg_t] = FP_COLOUR
    out[fg_t & ~fg_p] = FN_COLOUR
    out[fg_t & fg_p & (pred != truth)] = WRONG_CLASS_COLOUR
    out[~valid] = (60, 60, 60)
    return out


def _mask_picture(classes: np.ndarray, num_classes: int, ignore_index: int) -> np.ndarray:
    """Class ids as a picture: binary white on black, else a qualitative colour map."""
    import matplotlib

    if num_classes == 2:
        out = np.where(classes == 1, 255, 0).astype(np.uint8)
        out[classes == ignore_index] = 60
        return np.stack([out] * 3, axis=-1)
    colours = (np.asarray(matplotlib.colormaps["tab10"].colors) * 255).astype(np.uint8)
    out = colours[classes % len(colours)]
    out[classes == 0] = 0
    out[classes == ignore_index] = 60
    return out


def best_worst_plot(
    rows: list[dict], masks: Path, index: dict, path: Path, examples: int = 3
) -> Path:
    """The best and worst ``examples`` images by IoU: image, true mask, prediction, errors."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ssl_core.evaluate.plots import save

    ranked = sorted(rows, key=lambda r: (r["iou"], r["id"]))
    worst = ranked[: min(examples, -(-len(ranked) // 2))]  # few images: half each
    best = ranked[len(worst) :][::-1][:examples]
    chosen = [("best", r) for r in best] + [("worst", r) for r in worst]
    k, ignore = index["num_classes"], index.get("ignore_index", 255)
    fig, axes = plt.subplots(len(chosen), 4, figsize=(13, 3.3 * len(chosen)), squeeze=False)
    for (kind, row), ax in zip(chosen, axes, strict=True):
        pred = decode_prediction(read_png(masks / f"{row['id']}.png"), k)
        truth = read_png(masks / "truth" / f"{row['id']}.png")
        image_file = masks / "images" / f"{row['id']}.png"
        image = read_png(image_file) if image_file.is_file() else None
        panels = [
            (image, "image" if image is not None else "image (not written)"),
            (_mask_picture(truth, k, ignore), "true mask"),
            (_mask_picture(pred, k, ignore), "prediction"),
            (error_map(pred, truth, ignore), "errors"),
        ]
        for a, (picture, title) in zip(ax, panels, strict=True):
            if picture is not None:
                a.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255)
            a.set_title(title, fontsize=9)
            a.set(xticks=[], yticks=[])
        ax[0].set_ylabel(
            f"{kind}: {row['id'][:16]}\nIoU {row['iou']:.3f}, Dice {row['dice']:.3f}", fontsize=8
        )
    legend = [
        Patch(color=np.array(TP_COLOUR) / 255, label="found (true positive)"),
        Patch(color=np.array(FP_COLOUR) / 255, label="false positive"),
        Patch(color=np.array(FN_COLOUR) / 255, label="missed (false negative)"),
    ]
    if k > 2:
        legend.append(Patch(color=np.array(WRONG_CLASS_COLOUR) / 255, label="wrong class"))
    fig.legend(handles=legend, loc="lower center", ncol=len(legend), fontsize=9)
    fig.suptitle(f"Best and worst test images by foreground IoU ({len(rows)} images)", fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return save(fig, path, tight=False)


def score_masks(masks: Path, index: dict) -> tuple[dict, list[dict]]:
    """The metrics and the per-image rows of the written predictions."""
    k, ignore = index["num_classes"], index.get("ignore_index", 255)
    total = torch.zeros(k, 3, dtype=torch.long)
    rows = []
    for entry in index["masks"]:
        name = entry["id"]
        pred_file, truth_file = masks / f"{name}.png", masks / "truth" / f"{name}.png"
        if not pred_file.is_file() or not truth_file.is_file():
            raise MasksError(f"{masks}: {name}.png or truth/{name}.png is missing")
        pred = decode_prediction(read_png(pred_file), k)
        truth = read_png(truth_file)
        if pred.shape != truth.shape or list(pred.shape) != list(entry["size"]):
            raise MasksError(
                f"{name}: prediction {pred.shape}, truth {truth.shape}, index {entry['size']}"
            )
        counts = class_counts(
            torch.from_numpy(pred)[None], torch.from_numpy(truth)[None], k, ignore
        )
        total += counts[0]
        iou, dice = image_scores(counts)
        valid = truth != ignore
        rows.append(
            {
                "id": name,
                "iou": float(iou[0]),
                "dice": float(dice[0]),
                "true_foreground": int(((truth > 0) & valid).sum()),
                "predicted_foreground": int(((pred > 0) & valid).sum()),
                "pixels": int(valid.sum()),
            }
        )
    ious = np.array([r["iou"] for r in rows])
    metrics = {
        **dataset_scores(total),
        "image_iou": float(ious.mean()),
        "image_iou_median": float(np.median(ious)),
        "image_iou_std": float(ious.std()),
        "image_dice": float(np.mean([r["dice"] for r in rows])),
        "num_images": len(rows),
    }
    if k > 2:
        per_class_iou, per_class_dice = iou_dice(total)
        names = index.get("class_names") or [str(c) for c in range(k)]
        metrics["per_class"] = {
            names[c]: {"iou": float(per_class_iou[c]), "dice": float(per_class_dice[c])}
            for c in range(k)
        }
    return metrics, rows


def mask_scores(run) -> tuple[dict, dict[str, Path]]:
    """The masks' scores (``metrics.json``), ``per_image.csv`` and the best/worst figure."""
    masks, index, out = run.masks, run.meta, run.out
    metrics, rows = score_masks(masks, index)
    run.log(
        f"{metrics['num_images']} images: IoU {metrics['iou']:.4f}, Dice {metrics['dice']:.4f}, "
        f"mean per-image IoU {metrics['image_iou']:.4f}"
    )
    metrics["per_image"] = rows
    metrics["run"] = {
        key: index.get(key)
        for key in ("checkpoint", "model", "label_split", "split", "created", "root")
    }
    metrics["run"]["masks"] = str(masks)
    with (out / "per_image.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot = best_worst_plot(
        rows, masks, index, run.plot_dir / "best_worst.png", run.settings["examples"]
    )
    return metrics, {"Best and worst test images": plot}
