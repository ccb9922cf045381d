"""The MiniRocket baseline (ssl_core.series.minirocket): the transform itself (kernels,
features, biases, seeding, unequal lengths), against a direct dilated convolution; on
fake ``.ts`` files in the UEA layout, fit on a split's labeled series only, scored on the
test file, above chance on separable data; and its row in the comparison, read from the
random-init stage's ``metrics.json``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ssl_core import results as compare
from ssl_core.series import UEASeries
from ssl_core.series import minirocket as mr
from ssl_core.series.fake import write_fake_ts
from ssl_core.splits import LabelSplit

CLASSES = ("a", "b", "c")


@pytest.fixture
def data(tmp_path):
    """A UEA root (``Fake_TRAIN.ts``: 12 series per class, ``Fake_TEST.ts``: 10, lengths
    20-40) and a split of 8 labels per class."""
    root = tmp_path / "data"
    write_fake_ts(root / "Fake_TRAIN.ts", CLASSES, 12, 3, lengths=(20, 40), seed=0)
    write_fake_ts(root / "Fake_TEST.ts", CLASSES, 10, 3, lengths=(20, 40), seed=1)
    source = UEASeries("Fake")
    train = source.list_samples(root, "train")
    labeled = [s for k in (0, 1, 2) for s in [t for t in train if t[1] == k][:8]]
    split = LabelSplit("Fake", 0.2, 0, "x", len(train), labeled=labeled)
    splits = tmp_path / "splits"
    split.save(splits / "n24-seed0.json")
    return source, root, splits, split


def test_minirocket_fits_on_the_split_s_labeled_series_only_and_beats_chance(data, monkeypatch):
    source, root, splits, split = data
    seen = []
    fit = mr.minirocket_classify

    def spy(train, labels, test, *args):
        seen.append((train, np.asarray(labels), test))
        return fit(train, labels, test, *args)

    monkeypatch.setattr(mr, "minirocket_classify", spy)
    scores = mr.split_scores(source, root, splits, log=lambda _: None)
    assert len(seen) == 1
    train, labels, test = seen[0]
    assert len(train) == len(split.labeled) == 24  # the labeled series, nothing else
    for series, (path, label), y in zip(train, split.labeled, labels, strict=True):
        np.testing.assert_array_equal(series, source.read(root, path))
        assert y == label
    test_samples = source.list_samples(root, "test")
    assert len(test) == len(test_samples) == 30
    for series, (path, _) in zip(test, test_samples, strict=True):
        np.testing.assert_array_equal(series, source.read(root, path))
    row = scores["n24-seed0"]
    assert (row["num_labeled"], row["num_test"], row["fraction"], row["seed"]) == (24, 30, 0.2, 0)
    assert row["top1"] >= 0.7  # sines of 1, 2, 3 cycles: far above chance (1/3)
    assert row["cpu_seconds"] > 0 and row["num_features"] == 9996


def _direct(series: np.ndarray, dilation: int, taps, channels) -> np.ndarray:
    """The zero-padded ("same") dilated convolution of one kernel, summed over channels,
    written out: weights -1, and 2 at ``taps``."""
    weights = -np.ones(9)
    weights[list(taps)] = 2
    length = series.shape[1]
    out = np.zeros(length)
    for t in range(length):
        for k in range(9):
            u = t + (k - 4) * dilation
            if 0 <= u < length:
                out[t] += weights[k] * series[channels, u].sum()
    return out


def test_the_kernels_are_the_paper_s_dilated_convolutions():
    """84 kernels, every choice of the three 2s among 9; the outputs of a batch of unequal
    lengths equal the direct convolution of each series over its own length."""
    assert mr.KERNELS.shape == (84, 3) and len({tuple(k) for k in mr.KERNELS.tolist()}) == 84
    rng = np.random.default_rng(1)
    series = [rng.normal(size=(4, n)).astype(np.float32) for n in (7, 13, 30)]
    x, lengths = mr._batch(series)
    chosen = [rng.choice(4, size=1 + j % 4, replace=False) for j in range(84)]
    channels = torch.full((84, 9), 4)
    for j, c in enumerate(chosen):
        channels[j, : len(c)] = torch.from_numpy(c)
    for dilation in (1, 2, 3):
        out = mr._convolve(x, dilation, channels)
        for n, s in enumerate(series):
            for j in (0, 17, 50, 83):
                direct = _direct(s, dilation, mr.KERNELS[j].tolist(), chosen[j])
                np.testing.assert_allclose(out[n, j, : lengths[n]], direct, atol=1e-4)


def test_dilations_and_biases_follow_the_paper():
    """JapaneseVowels' longest series (29 steps): dilations 1, 2, 3 (up to 28 / 8), 119
    features per kernel; each bias is a quantile of one training series' output."""
    dilations, counts = mr.fit_dilations(29)
    assert dilations.tolist() == [1, 2, 3] and counts.sum() == 119
    assert mr.fit_dilations(5)[0].tolist() == [1]  # shorter than the kernel: dilation 1
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(3, n)).astype(np.float32) for n in (12, 20, 29, 16)]
    model = mr.MiniRocket(seed=0).fit(series)
    x, lengths = mr._batch(series)
    outputs = mr._convolve(x, 1, model.channels[0])  # dilation 1: biases[0], (84, 67)
    golden = (np.arange(1, 84 * 119 + 1) * (np.sqrt(5) + 1) / 2) % 1
    chosen = set()
    for j in range(84):  # the quantiles of one series' output, at the sequence's values
        q = golden[67 * j : 67 * (j + 1)]
        candidates = [np.quantile(outputs[n, j, : lengths[n]].numpy(), q) for n in range(4)]
        match = [
            n for n, c in enumerate(candidates) if np.allclose(model.biases[0][j], c, atol=1e-5)
        ]
        assert match
        chosen.update(match)
    assert len(chosen) > 1  # a random series per kernel, not always the same
    sizes = (model.channels[0] < 3).sum(1)
    assert sizes.min() >= 1 and sizes.max() <= 3  # a random subset of the 3 channels


def test_the_transform_s_features_seeds_and_padding_invariance():
    """9,996 PPV features in [0, 1]; the same for a seed, other for another; a series'
    features do not depend on the other series of its batch (their lengths, the padding);
    series shorter than the kernels' reach (7, 8 steps) are transformed too."""
    rng = np.random.default_rng(0)
    train = [rng.normal(size=(12, n)).astype(np.float32) for n in rng.integers(7, 30, 40)]
    model = mr.MiniRocket(seed=3).fit(train)
    assert not model.alternate  # unequal lengths: the variable-length variant
    short = [rng.normal(size=(12, n)).astype(np.float32) for n in (7, 8, 20)]
    features = model.transform(short)
    assert features.shape == (3, 9996) and features.dtype == np.float32
    assert features.min() >= 0 and features.max() <= 1 and 0.2 < features.mean() < 0.8
    np.testing.assert_array_equal(features, mr.MiniRocket(seed=3).fit(train).transform(short))
    assert not np.array_equal(features, mr.MiniRocket(seed=4).fit(train).transform(short))
    for n, s in enumerate(short):
        alone = model.transform([s])
        long = rng.normal(size=(12, 200)).astype(np.float32)  # pads s to 200 in the batch
        np.testing.assert_array_equal(model.transform([long, s, long])[1], alone[0])
        np.testing.assert_array_equal(features[n], alone[0])
    # the PPV counts the series' own positions only: 7 steps give multiples of 1/7
    np.testing.assert_allclose(features[0] * 7, np.round(features[0] * 7), atol=1e-5)


def test_padding_alternates_for_equal_lengths_and_on_request():
    """Equal lengths: half the kernels count only the positions where they lie inside the
    series (the fixed-length reference); requested for unequal lengths, a series too short
    for any inside position keeps the padded output (its PPV stays defined)."""
    rng = np.random.default_rng(0)
    equal = [rng.normal(size=(2, 40)).astype(np.float32) for _ in range(10)]
    model = mr.MiniRocket(seed=0).fit(equal)
    same = mr.MiniRocket(seed=0, alternate_padding=False).fit(equal)
    assert model.alternate and not same.alternate
    a, b = model.transform(equal), same.transform(equal)
    per_kernel = model.counts[0]
    odd = slice(per_kernel, 2 * per_kernel)  # dilation 1, kernel 1: inside positions only
    np.testing.assert_array_equal(a[:, :per_kernel], b[:, :per_kernel])
    assert not np.array_equal(a[:, odd], b[:, odd])
    np.testing.assert_allclose(a[:, odd] * 32, np.round(a[:, odd] * 32), atol=1e-5)  # 40 - 8
    forced = mr.MiniRocket(seed=0, alternate_padding=True).fit(equal)
    short = forced.transform([rng.normal(size=(2, 6)).astype(np.float32)])
    assert np.isfinite(short).all() and short.max() <= 1


def test_the_labels_come_from_the_split(data):
    """Swapping two classes' labels in the split swaps the predictions: the fit reads the
    split's labels, not the training file's."""
    source, root, splits, split = data
    right = mr.split_scores(source, root, splits, log=lambda _: None)["n24-seed0"]["top1"]
    swap = {0: 1, 1: 0, 2: 2}
    split.labeled = [(p, swap[y]) for p, y in split.labeled]
    split.save(splits / "n24-seed0.json")
    wrong = mr.split_scores(source, root, splits, log=lambda _: None)["n24-seed0"]["top1"]
    assert wrong <= right - 0.4


def test_the_comparison_lists_the_minirocket_row_with_the_baselines(tmp_path):
    """The random-init stage's ``metrics.json`` with ``minirocket`` (and its probes): the
    row per split the runs used, after the random-init rows, before supervised."""
    stage = tmp_path / "random-init"
    stage.mkdir()
    entry = {"fraction": 0.1, "num_labeled": 24, "knn": {"top1": 0.5}, "linear": {"top1": 0.6}}
    probes = {f"frac0.10-seed{s}": {**entry, "seed": s} for s in (0, 1)}
    rocket = {f"frac0.10-seed{s}": {"fraction": 0.1, "seed": s, "num_labeled": 24,
                                    "top1": 0.8 + 0.1 * s} for s in (0, 1, 2)}  # fmt: skip
    (stage / "metrics.json").write_text(json.dumps({"split_probes": probes, "minirocket": rocket}))
    results = tmp_path / "toy"
    for s in (0, 1):
        out = results / "compare" / f"supervised-frac0.10-seed{s}"
        out.mkdir(parents=True)
        out.joinpath("metrics.json").write_text(json.dumps({
            "test_top1": 0.7, "method": "supervised", "split": f"frac0.10-seed{s}",
            "fraction": 0.1, "seed": s, "num_labeled": 24, "seconds": {"total": 60.0},
        }))  # fmt: skip
    text = compare.report(results, random_init=stage).read_text()
    rows = [r.split(" | ")[:2] for r in text.splitlines() if r.startswith("| ") and "---" not in r]
    assert [r[0] for r in rows[1:]] == [
        f"| {compare.MINIROCKET}",
        "| random-init, kNN",
        "| random-init, linear probe",
        "| supervised",
    ]
    assert rows[1][1] == "0.850 ± 0.071 (2)"  # the runs' two splits, not seed 2's
    assert "ridge classifier" in text


def test_an_evaluator_whose_source_cannot_be_rebuilt_says_so_and_adds_nothing():
    class FakeRun:
        meta = {"datamodule": "nowhere.Missing", "data_root": "/nonexistent"}
        settings = {"splits": "/nonexistent", "seed": 0}

        def __init__(self):
            self.lines = []

        def has(self, need):
            return True

        def log(self, line):
            self.lines.append(line)

    run = FakeRun()
    assert mr.MiniRocketProbes().applies(run)
    assert mr.MiniRocketProbes()(run) == ({}, {})
    assert run.lines == ["no MiniRocket row: cannot rebuild the source of nowhere.Missing"]
