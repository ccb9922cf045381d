"""The series modality: padding, collation and per-channel standardisation of batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_core.data import IndexedDataset
from ssl_core.data.modality import mean_std
from ssl_core.data.views import cat, map_views
from ssl_core.series import Series, SeriesCollate, SeriesContrastiveTransform, pad_series
from ssl_core.series.ts import BadSeriesError, TsArrays


def channel_statistics(series):
    return mean_std(series, axis=1)


def standardize(view, mean, std):
    return Series().normalize(view, mean, std)


def series_list(lengths=(3, 7, 5), channels=2):
    rng = np.random.default_rng(0)
    return [rng.normal(5.0, 3.0, (channels, n)).astype(np.float32) for n in lengths]


def test_pad_series_masks_the_padding():
    view = pad_series(series_list())
    assert view["series"].shape == (3, 2, 7) and view["series"].dtype == torch.float32
    assert view["mask"].sum(1).tolist() == [3, 7, 5]
    assert (view["series"][0, :, 3:] == 0).all()
    np.testing.assert_array_equal(view["series"][2, :, :5].numpy(), series_list()[2])
    assert pad_series(series_list(), max_length=4)["series"].shape == (3, 2, 4)
    with pytest.raises(ValueError, match="channel counts"):
        pad_series([np.zeros((2, 3)), np.zeros((3, 3))])


def test_collate_with_views_and_bad_samples():
    items = [
        {"series": s, "label": i, "index": 10 + i, "seed": 5 + i}
        for i, s in enumerate(series_list())
    ]
    items.insert(1, {"bad_files": "x.ts:3: 2 NaN values"})
    batch = SeriesCollate(SeriesContrastiveTransform())(items)
    assert batch["label"].tolist() == [0, 1, 2] and batch["index"].tolist() == [10, 11, 12]
    assert batch["bad_files"] == ["x.ts:3: 2 NaN values"]
    assert len(batch["views"]) == 2
    for view in batch["views"]:
        assert view["series"].shape[:2] == (3, 2) and view["mask"].shape[0] == 3
    plain = SeriesCollate()(items)
    assert set(plain["image"]) == {"series", "mask"}
    both = cat(batch["views"])
    assert both["series"].shape[0] == 6 and both["mask"].shape[1] == both["series"].shape[2]


def test_channel_statistics_over_real_steps_only():
    series = series_list()
    mean, std = channel_statistics(series)
    joined = np.concatenate(series, axis=1).astype(np.float64)
    np.testing.assert_allclose(mean, joined.mean(1), rtol=1e-10)
    np.testing.assert_allclose(std, joined.std(1), rtol=1e-8)
    _, flat = channel_statistics([np.ones((1, 4))])
    assert flat.tolist() == [1.0]


def test_standardize_keeps_padding_zero():
    series = series_list()
    mean, std = (torch.tensor(a, dtype=torch.float32) for a in channel_statistics(series))
    view = standardize(pad_series(series), mean, std)
    real = view["series"].permute(1, 0, 2)[:, view["mask"]]  # (C, real steps)
    torch.testing.assert_close(real.mean(1), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(real.std(1, unbiased=False), torch.ones(2), atol=1e-5, rtol=0)
    assert (view["series"][0, :, 3:] == 0).all()
    semi = {"labeled": {"image": pad_series(series), "label": torch.zeros(3)}, "index": 1}
    out = map_views(semi, lambda view: standardize(view, mean, std))
    torch.testing.assert_close(out["labeled"]["image"]["series"], view["series"])
    assert out["index"] == 1 and torch.equal(out["labeled"]["label"], torch.zeros(3))


def test_dataset_items_seeds_and_bad_series(tmp_path):
    path = tmp_path / "F_TRAIN.ts"
    path.write_text(
        "@dimensions 2\n@classLabel true a b\n@data\n1,2:3,4:a\n1,nan:3,4:b\n5,6,7:8,9,10:b\n"
    )
    source = TsArrays([path])
    samples = list(zip(source.ids, [0, None, 1], strict=True))
    data = IndexedDataset(source, samples, "series", on_bad_file="skip")
    assert data.paths == ["F_TRAIN.ts:4", "F_TRAIN.ts:5", "F_TRAIN.ts:6"]
    item = data[(2, 99)]
    assert item["seed"] == 99 and item["label"] == 1 and item["series"].shape == (2, 3)
    assert data[0]["seed"] == 0
    assert data[1] == {"bad_files": "F_TRAIN.ts:5: 1 NaN values"}
    batch = SeriesCollate()([data[i] for i in range(3)])
    assert batch["label"].tolist() == [0, 1] and batch["bad_files"] == [
        "F_TRAIN.ts:5: 1 NaN values"
    ]
    with pytest.raises(BadSeriesError, match="F_TRAIN.ts:5: 1 NaN values. Leave"):
        IndexedDataset(source, samples, "series")[1]
