"""The one-page Markdown report of ``evaluate``: run, metrics table, plots."""

from __future__ import annotations

from pathlib import Path

ROWS = (
    ("knn_top1", "kNN top-1"),
    ("knn_top5", "kNN top-5"),
    ("linear_top1", "linear probe top-1"),
    ("linear_top5", "linear probe top-5"),
    ("kmeans_nmi", "k-means NMI (test)"),
    ("kmeans_ari", "k-means ARI (test)"),
    ("labelprop_pool_top1", "label propagation, unlabeled train pool"),
    ("labelprop_test_top1", "label propagation, test"),
    ("anomaly_auroc", "anomaly AUROC (held-out class vs in-distribution test)"),
    ("knn_top1_shifted", "kNN top-1, shifted test"),
    ("anomaly_score_clean", "mean anomaly score, clean test"),
    ("anomaly_score_shifted", "mean anomaly score, shifted test"),
    ("shift_auroc", "AUROC shifted vs clean test (anomaly score)"),
    ("anomaly_auroc_shifted", "anomaly AUROC on shifted test"),
)


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_report(out: Path, metrics: dict, plots: dict[str, Path]) -> Path:
    """Write ``out/report.md`` from the metrics and the plot files."""
    info = metrics["run"]
    spaces = list(metrics["spaces"])
    lines = [
        f"# Evaluation of {out.name}",
        "",
        f"- checkpoint: `{info['checkpoint']}`"
        if info.get("checkpoint")
        else "- checkpoint: none: **the network as its config builds it** (untrained: the "
        "random-init baseline, unless the config loads pretrained `weights`)",
        f"- config: `{info.get('config')}`, model `{info.get('model')}`",
        f"- label split: {info.get('label_split') or 'none (all training labels)'}; "
        f"fitted on {metrics['num_fit']} labeled training images "
        f"({'split-aware' if metrics['settings']['split_aware'] else 'all training labels'}), "
        f"evaluated on {metrics['num_test_in_distribution']} in-distribution test images",
        f"- held-out classes: {metrics['held_out_classes'] or 'none'}; "
        f"shift: {info.get('shift') or 'none'}",
        f"- kNN k={metrics['settings']['k']}, t={metrics['settings']['t']}; "
        f"chance top-1 = {metrics['chance_top1']:.3f}; headline space: **{metrics['space']}**",
        "",
        "| metric | " + " | ".join(spaces) + " |",
        "|---|" + "---|" * len(spaces),
    ]
    for key, name in ROWS:
        values = [metrics["spaces"][s].get(key) for s in spaces]
        if all(v is None for v in values):
            continue
        lines.append(f"| {name} | " + " | ".join(_fmt(v) for v in values) + " |")
    lines += [
        "",
        "To judge these numbers, read them beside a random-init model evaluated the same way "
        "(`train predict` without `--ckpt_path`; the pipeline's `random-init` stage) and a "
        "supervised one: evaluate only reports what it is given. "
        "Classification metrics leave out test images of held-out classes.",
        "",
    ]
    for name, path in plots.items():
        lines += [f"## {name}", "", f"![{name}]({path.relative_to(out).as_posix()})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
