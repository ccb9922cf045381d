"""Fixtures and checks every project's tests need, written once (a ``conftest.py``
imports them by name: ``from ssl_core.testing import isolated_split_cache, ...``)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def isolated_split_cache(tmp_path_factory):
    """Label splits made on first use go to a temporary cache, not ``~/.cache/ssl-core``."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SSL_CORE_CACHE", str(tmp_path_factory.mktemp("ssl-core-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def http_mirror(tmp_path_factory):
    """A loopback HTTP server of a temporary folder: ``(folder, base_url)``. Tests never
    download: they publish a fake archive there and point the code at it."""
    folder = tmp_path_factory.mktemp("mirror")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.func.log_message = lambda *args: None  # quiet
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def fit_one_step(config: str | Path, root: str | Path, out: str | Path, data: dict | None = None):
    """``train fit`` of ``config`` on ``root``, one step, into ``out`` (``data``: ``--data.*``)."""
    from ssl_core.cli import cli

    args = ["fit", "--config", str(config), "--data.root", str(root), "--trainer.fast_dev_run", "1"]
    args += ["--trainer.default_root_dir", str(out)]
    for key, value in (data or {}).items():
        args += [f"--data.{key}", str(value)]
    return cli(args)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread while the module's tests run (tiny steps gain nothing from more)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check_series_views_from_seeds(transform, series: list[torch.Tensor], seeds: torch.Tensor):
    """Assert that a series recipe (``transform(series, mask, seeds)``) gives each sample
    the same views alone, in a batch and in the batch reversed with more padding, other
    views for other seeds, and views of one sample that differ."""
    from ssl_core.series.modality import pad_series

    view = pad_series(series)
    batch_views = transform(view["series"], view["mask"], seeds)
    padded = {k: torch.nn.functional.pad(v, (0, 9)) for k, v in pad_series(series[::-1]).items()}
    rev_views = transform(padded["series"], padded["mask"], seeds.flip(0))
    for i in range(len(series)):
        one_mask = torch.ones(1, series[i].shape[1], dtype=torch.bool)
        alone = transform(series[i][None], one_mask, seeds[i : i + 1])
        j = len(series) - 1 - i
        for got, rev, one in zip(batch_views, rev_views, alone, strict=True):
            n = int(got["mask"][i].sum())
            assert n >= 1 and int(one["mask"][0].sum()) == n == int(rev["mask"][j].sum())
            assert torch.equal(got["series"][i, :, :n], one["series"][0, :, :n])
            assert torch.equal(got["series"][i, :, :n], rev["series"][j, :, :n])
    assert not torch.equal(batch_views[0]["series"], batch_views[1]["series"])
    other = transform(view["series"], view["mask"], seeds + 1)
    assert not torch.equal(other[0]["series"], batch_views[0]["series"])
