"""The series pieces together, without the datamodule: .ts file -> dataset -> loader with
per-sample seeds -> contrastive views -> standardisation -> backbone -> NT-Xent step."""

from __future__ import annotations

import numpy as np
import torch
from lightly.loss import NTXentLoss
from torch.utils.data import DataLoader

from ssl_core.data import IndexedDataset
from ssl_core.data.modality import mean_std
from ssl_core.data.views import map_views
from ssl_core.series import ResNet1d, Series, SeriesCollate, SeriesContrastiveTransform, TsArrays


def test_one_contrastive_step_on_a_ts_file(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(12):
        n = int(rng.integers(5, 20))
        channels = [",".join(f"{v:.4f}" for v in rng.normal(3.0, 2.0, n)) for _ in range(3)]
        lines.append(":".join(channels) + f":{'ab'[i % 2]}")
    path = tmp_path / "Toy_TRAIN.ts"
    path.write_text(
        "@dimensions 3\n@equalLength false\n@classLabel true a b\n@data\n" + "\n".join(lines) + "\n"
    )
    source = TsArrays([path])
    series = [source.read(i) for i in range(len(source))]
    mean, std = (torch.tensor(a, dtype=torch.float32) for a in mean_std(series, axis=1))
    sampler = [(i, 1000 + i) for i in range(len(source))]  # (index, seed), as SeededSampler yields
    samples = list(zip(source.ids, source.targets.tolist(), strict=True))
    loader = DataLoader(
        IndexedDataset(source, samples, "series"),
        batch_size=6,
        sampler=sampler,
        collate_fn=SeriesCollate(SeriesContrastiveTransform()),
    )
    net = ResNet1d(3, widths=(8, 8))
    head = torch.nn.Linear(net.num_features, 4)
    optimizer = torch.optim.SGD([*net.parameters(), *head.parameters()], lr=0.1)
    criterion = NTXentLoss(temperature=0.5)
    batches = list(loader)
    assert [b["index"].tolist() for b in batches] == [list(range(6)), list(range(6, 12))]
    for batch in batches:
        # what on_after_batch_transfer does
        batch = map_views(batch, lambda view: Series().normalize(view, mean, std))
        v0, v1 = batch["views"]
        loss = criterion(head(net(v0)), head(net(v1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    # The same seeds give the same views in another loader of other batch size.
    again = DataLoader(
        IndexedDataset(source, samples, "series"),
        batch_size=4,
        sampler=sampler,
        collate_fn=SeriesCollate(SeriesContrastiveTransform()),
    )
    first = next(iter(again))["views"][0]
    n = int(first["mask"][0].sum())
    torch.testing.assert_close(
        first["series"][0, :, :n], batches[0]["views"][0]["series"][0, :, :n], rtol=0, atol=0
    )
