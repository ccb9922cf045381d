"""Fixtures of the imagenette tests: a fake dataset in the real layout, a tiny config."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagenette.fake import make_fake_imagenette
from ssl_core.testing import http_mirror, isolated_split_cache, one_torch_thread  # noqa: F401

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parents[2]
TINY_CONFIG = TESTS_DIR / "configs" / "tiny.yaml"
# The team's real copy lives next to the repository (never inside it).
REAL_ROOT = REPO_ROOT.parent / "shared" / "data" / "imagenette2-224"


@pytest.fixture(scope="session")
def fake_root(tmp_path_factory) -> Path:
    """A fake Imagenette (10 classes, 6 train / 3 val images each, some grayscale).

    Session-scoped: tests only read it (make a copy to change it)."""
    return make_fake_imagenette(tmp_path_factory.mktemp("fake") / "imagenette2-160")


@pytest.fixture
def tiny_config() -> Path:
    return TINY_CONFIG


@pytest.fixture
def real_root() -> Path:
    if not (REAL_ROOT / "train").is_dir():
        pytest.skip(f"real Imagenette not found at {REAL_ROOT} (../shared/data/imagenette2-224)")
    return REAL_ROOT
