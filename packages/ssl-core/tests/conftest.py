"""Fixtures of ssl-core's own tests: a fake class-folder dataset made with ssl-core's
writer and a tiny config of the generic datamodule (no project package is imported)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssl_core.data.fake import make_fake_image_folder
from ssl_core.testing import http_mirror, isolated_split_cache  # noqa: F401 (fixtures)

TESTS_DIR = Path(__file__).resolve().parent
TINY_CONFIG = TESTS_DIR / "configs" / "tiny.yaml"
CLASSES = ("ant", "bee", "cat", "dog", "eel")


@pytest.fixture(scope="session")
def fake_root(tmp_path_factory) -> Path:
    """5 classes, 12 train / 3 test images each (mixed sizes, some grey). Read only."""
    root = tmp_path_factory.mktemp("fake") / "folders"
    return make_fake_image_folder(root, CLASSES, {"train": 12, "test": 3}, size=40)


@pytest.fixture
def tiny_args():
    """``tiny_args(root, run_dir, *extra)``: ``train fit`` arguments of the tiny config
    (any method via ``--model CLASS``)."""
    return _tiny_args


def _tiny_args(root: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--config",
        str(TINY_CONFIG),
        "--data.root",
        str(root),
        "--trainer.default_root_dir",
        str(run_dir),
        *extra,
    ]
