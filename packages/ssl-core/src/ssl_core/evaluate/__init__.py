"""``evaluate OUT``: numbers and pictures from what ``train predict`` wrote
(``OUT/embeddings/`` or ``OUT/masks/``) into ``OUT/metrics.json``, ``OUT/plots/`` and
``OUT/report.md`` (:mod:`~ssl_core.evaluate.run`). Importing this package stays light.
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
