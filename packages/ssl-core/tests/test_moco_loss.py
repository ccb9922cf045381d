"""MoCo's symmetrized loss against a reference written out in torch.

Both terms, q0 against k1 and q1 against k0, take their negatives from the queue of
earlier batches only: never a key of the current batch, in particular not the query's
own image's key (at init the key encoder is a copy of the query encoder, so q1 and k1
have cosine 1). Then both views' keys are queued."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ssl_core.methods import MoCo

BATCH, QUEUE, DIM = 4, 32, 8


class TinyBackbone(nn.Module):
    """A linear map of 3 x 4 x 4 images: what MoCo needs of a backbone, in microseconds."""

    num_features = 16

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, self.num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def reference_loss(q0, q1, k0, k1, queue, temperature):
    """Mean over both views of MoCo's InfoNCE: the positive key against the queue."""

    def info_nce(q, k):
        q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
        positive = (q * k).sum(dim=1, keepdim=True)
        logits = torch.cat([positive, q @ queue.T], dim=1) / temperature
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))

    return 0.5 * (info_nce(q0, k1) + info_nce(q1, k0))


def training_step(model: MoCo, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    batch = {"views": [x0, x1], "label": torch.zeros(len(x0), dtype=torch.long)}
    with warnings.catch_warnings():  # self.log without a trainer
        warnings.simplefilter("ignore")
        return model.training_step(batch, 0)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_both_terms_use_only_the_queue_of_earlier_batches(temperature):
    torch.manual_seed(0)
    model = MoCo(
        backbone=TinyBackbone(),
        projection_dim=DIM,
        hidden_dim=16,
        temperature=temperature,
        memory_bank_size=QUEUE,
        gather_distributed=False,
    )
    model.train()
    for _ in range(2):  # the second step's queue holds the first step's keys
        x0, x1 = torch.randn(BATCH, 3, 4, 4), torch.randn(BATCH, 3, 4, 4)
        queue = model.criterion.memory_bank.bank.clone()  # (QUEUE, DIM), unit rows
        with torch.no_grad():
            q0, q1 = (model.projection_head(model.backbone(x)) for x in (x0, x1))
            k0, k1 = (model.projection_head_momentum(model.backbone_momentum(x)) for x in (x0, x1))
        expected = reference_loss(q0, q1, k0, k1, queue, temperature)
        loss = training_step(model, x0, x1)
        torch.testing.assert_close(loss.detach(), expected)


def test_both_keys_are_queued_once_after_the_step():
    torch.manual_seed(0)
    model = MoCo(
        backbone=TinyBackbone(),
        projection_dim=DIM,
        hidden_dim=16,
        memory_bank_size=QUEUE,
        gather_distributed=False,
    )
    model.train()
    bank = model.criterion.memory_bank
    before = bank.bank.clone()
    x0, x1 = torch.randn(BATCH, 3, 4, 4), torch.randn(BATCH, 3, 4, 4)
    with torch.no_grad():
        k0, k1 = (model.projection_head_momentum(model.backbone_momentum(x)) for x in (x0, x1))
    training_step(model, x0, x1)
    queued = torch.cat([k1, k0])
    torch.testing.assert_close(bank.bank[: 2 * BATCH], F.normalize(queued, dim=1))
    torch.testing.assert_close(bank.bank[2 * BATCH :], before[2 * BATCH :])
    assert int(bank.bank_ptr) == 2 * BATCH


def moco(**kwargs) -> MoCo:
    return MoCo(
        backbone=TinyBackbone(),
        projection_dim=DIM,
        hidden_dim=16,
        memory_bank_size=QUEUE,
        gather_distributed=False,
        **kwargs,
    )


def test_the_queue_travels_with_the_checkpoint():
    """lightly keeps the queue out of the state dict; a resumed run must get it back
    (not a fresh random queue with its pointer at 0)."""
    torch.manual_seed(0)
    model = moco()
    model.train()
    training_step(model, torch.randn(BATCH, 3, 4, 4), torch.randn(BATCH, 3, 4, 4))
    checkpoint = {"state_dict": model.state_dict()}
    model.on_save_checkpoint(checkpoint)

    resumed = moco()
    resumed.load_state_dict(checkpoint["state_dict"])
    resumed.on_load_checkpoint(checkpoint)
    bank, resumed_bank = model.criterion.memory_bank, resumed.criterion.memory_bank
    assert torch.equal(resumed_bank.bank, bank.bank)
    assert int(resumed_bank.bank_ptr) == int(bank.bank_ptr) == 2 * BATCH


def test_a_checkpoint_without_a_queue_still_loads_and_a_wrong_size_is_refused():
    model = moco()
    before = model.criterion.memory_bank.bank.clone()
    model.on_load_checkpoint({"state_dict": {}})  # written before the queue was saved
    assert torch.equal(model.criterion.memory_bank.bank, before)
    with pytest.raises(ValueError, match="memory_bank_size"):
        model.on_load_checkpoint(
            {"moco_queue": {"bank": torch.zeros(QUEUE * 2, DIM), "bank_ptr": torch.zeros(1)}}
        )
