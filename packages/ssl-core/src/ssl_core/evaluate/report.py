"""The one-page Markdown report of ``evaluate``, for every kind of run: what was
evaluated, a table of the numbers, the figures."""

from __future__ import annotations

from pathlib import Path

#: Per-space rows of an embeddings run (metric key, what it reads as).
ROWS = (
    ("knn_top1", "kNN top-1"),
    ("knn_top5", "kNN top-5"),
    ("linear_top1", "linear probe top-1"),
    ("linear_top5", "linear probe top-5"),
    ("roc_auc", "linear probe ROC AUC (two classes)"),
    ("rejection_eff30", "linear probe 1/eps_B at eps_S = 0.3"),
    ("kmeans_nmi", "k-means NMI (test)"),
    ("kmeans_ari", "k-means ARI (test)"),
    ("labelprop_pool_top1", "label propagation, unlabeled train pool"),
    ("labelprop_test_top1", "label propagation, test"),
    ("anomaly_auroc", "anomaly AUROC (unseen classes vs in-distribution test)"),
    ("knn_top1_shifted", "kNN top-1, shifted test"),
    ("anomaly_score_clean", "mean anomaly score, clean test"),
    ("anomaly_score_shifted", "mean anomaly score, shifted test"),
    ("shift_auroc", "AUROC shifted vs clean test (anomaly score)"),
    ("anomaly_auroc_shifted", "anomaly AUROC on shifted test"),
)
#: Rows of a segmentation run.
MASK_ROWS = (
    ("iou", "foreground IoU (dataset-level)"),
    ("dice", "foreground Dice (dataset-level)"),
    ("image_iou", "mean per-image IoU"),
    ("image_iou_median", "median per-image IoU"),
    ("image_dice", "mean per-image Dice"),
)


def number(value, digits: int = 3, err: float | None = None, none: str = "–") -> str:
    """A table cell: a float to ``digits`` decimals (and ``± err``), ``none`` for ``None``."""
    if value is None:
        return none
    text = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return text + (f" ± {err:.{digits}f}" if err is not None else "")


def _checkpoint(info: dict) -> str:
    if info.get("checkpoint"):
        return f"- checkpoint: `{info['checkpoint']}`"
    return (
        "- checkpoint: none: **the network as its config builds it** (untrained: the "
        "random-init baseline, unless the config loads pretrained `weights`)"
    )


def _embeddings_lines(metrics: dict) -> list[str]:
    info, settings = metrics["run"], metrics["settings"]
    spaces = list(metrics["spaces"])
    fitted = "split-aware" if settings["split_aware"] else "all training labels"
    lines = [
        _checkpoint(info),
        f"- config: `{info.get('config')}`, model `{info.get('model')}`",
        f"- label split: {info.get('label_split') or 'none (all training labels)'}; "
        f"fitted on {metrics['num_fit']} labeled training samples ({fitted}), evaluated on "
        f"{metrics['num_test_in_distribution']} in-distribution "
        f"{'validation' if info.get('test_on') == 'val' else 'test'} samples",
        f"- held-out classes: {metrics['held_out_classes'] or 'none'}; "
        f"shift: {info.get('shift') or 'none'}",
        f"- kNN k={settings['k']}, t={settings['t']}; chance top-1 = "
        f"{metrics['chance_top1']:.3f}; headline space: **{metrics['space']}**",
        "",
        "| metric | " + " | ".join(spaces) + " |",
        "|---|" + "---|" * len(spaces),
    ]
    for key, name in ROWS:
        values = [metrics["spaces"][s].get(key) for s in spaces]
        if any(v is not None for v in values):
            lines.append(f"| {name} | " + " | ".join(number(v) for v in values) + " |")
    if "two_class_score" in metrics:
        lines += [
            "",
            f"Headline two-class figures ({metrics['two_class_score']}): ROC AUC "
            f"{number(metrics['roc_auc'])}, 1/eps_B at eps_S = 0.3 "
            f"{number(metrics['rejection_eff30'])} (68% bootstrap interval "
            f"{number(metrics.get('rejection_eff30_lo'), 1, none='unbounded')} to "
            f"{number(metrics.get('rejection_eff30_hi'), 1, none='unbounded')}), at 0.5 "
            f"{number(metrics['rejection_eff50'])}.",
        ]
    lines += [
        "",
        "To judge these numbers, read them beside a random-init model evaluated the same way "
        "(`train predict` without `--ckpt_path`; the pipeline's `random-init` stage) and a "
        "supervised one: evaluate only reports what it is given. "
        "Classification metrics leave out test samples of held-out classes.",
    ]
    return lines


def _masks_lines(metrics: dict) -> list[str]:
    info = metrics["run"]
    lines = [
        _checkpoint(info),
        f"- model: `{info.get('model')}`; label split: `{info.get('label_split')}`",
        f"- test images: {metrics['num_images']}",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    return lines + [f"| {name} | {metrics[key]:.4f} |" for key, name in MASK_ROWS]


def write_report(out: Path, metrics: dict, plots: dict[str, Path]) -> Path:
    """Write ``out/report.md`` from the metrics and the plot files."""
    kind = "" if "spaces" in metrics else " (segmentation)"
    lines = [f"# Evaluation of {out.name}{kind}", ""]
    lines += _embeddings_lines(metrics) if "spaces" in metrics else _masks_lines(metrics)
    lines.append("")
    for name, path in plots.items():
        lines += [f"## {name}", "", f"![{name}]({path.relative_to(out).as_posix()})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
