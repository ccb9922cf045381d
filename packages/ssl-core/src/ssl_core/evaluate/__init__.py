"""``evaluate OUT``: numbers and pictures from a run's embeddings.

Reads ``OUT/embeddings/`` (written by ``train predict``, see :mod:`ssl_core.embeddings`),
writes ``OUT/metrics.json``, ``OUT/plots/*.png`` and ``OUT/report.md``:

- :mod:`~ssl_core.evaluate.metrics`: kNN, linear probe, k-means, label propagation,
  Mahalanobis anomaly scores;
- :mod:`~ssl_core.evaluate.shift`: the domain shifts a datamodule applies at predict time;
- :mod:`~ssl_core.evaluate.plots` and :mod:`~ssl_core.evaluate.report`: figures and page;
- :mod:`~ssl_core.evaluate.run`: the command (:func:`evaluate`, :func:`main`).

Importing this package stays light (datamodules import :mod:`.shift`); the command
loads scikit-learn, UMAP and matplotlib only when it runs.
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
