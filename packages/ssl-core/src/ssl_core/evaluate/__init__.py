"""``evaluate OUT``: numbers and pictures from what ``train predict`` wrote
(``OUT/embeddings/`` or ``OUT/masks/``) into ``OUT/metrics.json``, ``OUT/plots/`` and
``OUT/report.md``. Importing this package stays light: ``main`` (the console entry point)
and ``evaluate`` are those of :mod:`~ssl_core.evaluate.run`, imported on first use.
"""


def __getattr__(name: str):
    if name in ("main", "evaluate"):
        from ssl_core.evaluate import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
