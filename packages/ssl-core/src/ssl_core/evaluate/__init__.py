"""``evaluate OUT``: numbers and pictures from what ``train predict`` wrote.

Reads ``OUT/embeddings/`` (see :mod:`ssl_core.embeddings`) or, for segmentation,
``OUT/masks/``; writes ``OUT/metrics.json``, ``OUT/plots/*.png`` and ``OUT/report.md``:

- :mod:`~ssl_core.evaluate.run`: the command, one loop over evaluators;
- :mod:`~ssl_core.evaluate.evaluators`: what is measured, each with what it needs (a
  dataset adds its own, e.g. GWAK's efficiency against SNR);
- :mod:`~ssl_core.evaluate.metrics`: probes, clusters, label propagation, Mahalanobis
  anomaly scores; :mod:`~ssl_core.evaluate.segmentation`: scores of masks;
- :mod:`~ssl_core.evaluate.plots` and :mod:`~ssl_core.evaluate.report`: figures and page.

Importing this package stays light; the command loads scikit-learn, UMAP and matplotlib
only when it runs.
"""

from __future__ import annotations


def main(args: list[str] | None = None) -> None:
    """Console entry point of ``evaluate`` (see :func:`ssl_core.evaluate.run.main`)."""
    from ssl_core.evaluate.run import main as run_main

    run_main(args)


def evaluate(out_dir, **settings):
    """Evaluate ``out_dir`` (see :func:`ssl_core.evaluate.run.evaluate`); return the metrics."""
    from ssl_core.evaluate.run import evaluate as run_evaluate

    return run_evaluate(out_dir, **settings)


__all__ = ["evaluate", "main"]
