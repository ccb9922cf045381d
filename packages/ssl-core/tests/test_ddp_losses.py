"""Contrastive losses under DDP: 2 CPU processes (gloo) give the loss and gradients of
the global batch, i.e. positives and negatives are gathered across ranks.

The loss objects are the ones inside the real SimCLR and SupCon modules
(``gather_distributed=True``, their default). Each rank holds half of a global batch;
the mean of the ranks' losses (what DDP's gradient averaging optimizes) must equal the
single-process loss of the whole batch, and each rank's input gradient, divided by the
world size as DDP's averaging does, the single-process gradient of its half.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ssl_core.backbones import Backbone
from ssl_core.methods import SimCLR, SupCon

WORLD = 2
BATCH, VIEWS, DIM = 8, 2, 16  # global batch


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(BATCH, VIEWS, DIM, generator=g)
    labels = torch.randint(0, 3, (BATCH,), generator=g)
    return z, labels


def _criteria() -> dict[str, torch.nn.Module]:
    backbone = Backbone("resnet18")  # small heads; the criterion is what is tested
    return {
        "simclr": SimCLR(
            backbone=backbone, hidden_dim=8, projection_dim=8, temperature=0.3
        ).criterion,
        "supcon": SupCon(
            backbone=backbone, hidden_dim=8, projection_dim=8, temperature=0.3
        ).criterion,
    }


def _loss(name: str, criterion, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if name == "simclr":
        return criterion(z[:, 0], z[:, 1])
    return criterion(z, labels)


def _worker(rank: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        z, labels = _data()
        part = slice(rank * BATCH // WORLD, (rank + 1) * BATCH // WORLD)
        results = {}
        for name, criterion in _criteria().items():
            assert criterion.gather_distributed
            local = z[part].clone().requires_grad_(True)
            loss = _loss(name, criterion, local, labels[part])
            loss.backward()
            mean_loss = loss.detach().clone()
            dist.all_reduce(mean_loss)
            results[name] = (mean_loss / WORLD, local.grad / WORLD)
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.timeout(120)
def test_losses_gather_across_two_processes(tmp_path):
    mp.start_processes(
        _worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=WORLD, start_method="fork"
    )
    z, labels = _data()
    for name, criterion in _criteria().items():
        full = z.clone().requires_grad_(True)
        expected = _loss(name, criterion, full, labels)
        expected.backward()
        for rank in range(WORLD):
            loss, grad = torch.load(tmp_path / f"rank{rank}.pt")[name]
            part = slice(rank * BATCH // WORLD, (rank + 1) * BATCH // WORLD)
            torch.testing.assert_close(loss, expected.detach(), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(grad, full.grad[part], rtol=1e-4, atol=1e-6)
    # Without gathering, the ranks' losses would differ from the global one:
    assert _loss("simclr", _criteria()["simclr"], z[: BATCH // 2], labels[: BATCH // 2]) != expected
