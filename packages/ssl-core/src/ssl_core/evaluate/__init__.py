"""``evaluate OUT``: numbers and pictures from a run's embeddings.

Reads ``OUT/embeddings/`` (written by ``train predict``, see :mod:`ssl_core.embeddings`),
writes ``OUT/metrics.json``, ``OUT/plots/*.png`` and ``OUT/report.md``:

- :mod:`~ssl_core.evaluate.metrics`: kNN, linear probe, k-means, label propagation,
  Mahalanobis anomaly scores;
- :mod:`~ssl_core.evaluate.shift`: the domain shifts a datamodule applies at predict time;
- :mod:`~ssl_core.evaluate.plots` and :mod:`~ssl_core.evaluate.report`: figures and page;
- :mod:`~ssl_core.evaluate.run`: the command (:func:`evaluate`, :func:`main`);
- :mod:`~ssl_core.evaluate.segmentation`: the same command for segmentation runs (their
  predicted masks, ``OUT/masks/``).

Importing this package stays light (datamodules import :mod:`.shift`); the command
loads scikit-learn, UMAP and matplotlib only when it runs.
"""

from __future__ import annotations


def main(args: list[str] | None = None) -> None:
    """Console entry point of ``evaluate`` (see :func:`ssl_core.evaluate.run.main`); a
    run with predicted masks (``RUN/masks/index.json``) and no embeddings is a
    segmentation run (see :func:`ssl_core.evaluate.segmentation.main`)."""
    import sys
    from pathlib import Path

    argv = list(sys.argv[1:] if args is None else args)
    runs = [a for a in argv if not a.startswith("-") and (Path(a) / "masks/index.json").is_file()]
    if runs and not (Path(runs[0]) / "embeddings").is_dir():
        from ssl_core.evaluate.segmentation import main as segmentation_main

        return segmentation_main(argv)
    from ssl_core.evaluate.run import main as run_main

    run_main(args)


def evaluate(out_dir, **settings):
    """Evaluate ``out_dir`` (see :func:`ssl_core.evaluate.run.evaluate`); return the metrics."""
    from ssl_core.evaluate.run import evaluate as run_evaluate

    return run_evaluate(out_dir, **settings)


__all__ = ["evaluate", "main"]
