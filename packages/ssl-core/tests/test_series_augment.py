"""Series augmentations: each sample's view from its seed alone, masks kept, and what
each op preserves."""

from __future__ import annotations

import pytest
import torch

from ssl_core.data.seeds import SampleRandom
from ssl_core.series import augment as A
from ssl_core.series.modality import pad_series
from ssl_core.testing import check_series_views_from_seeds

LENGTHS = (7, 29, 12, 20)
SEEDS = torch.tensor([11, 22, 33, 44])


def make_batch(lengths=LENGTHS, channels=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    series = [torch.randn(channels, n, generator=g) + 2.0 for n in lengths]
    view = pad_series(series)
    return series, view["series"], view["mask"]


TRANSFORMS = {
    "contrastive": A.SeriesContrastiveTransform(),
    "weak-strong": A.SeriesWeakStrongTransform(),
    "two-weak": A.SeriesWeakStrongTransform(2, 0),
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_views_depend_on_the_sample_seed_alone(name):
    series, _, _ = make_batch()
    check_series_views_from_seeds(TRANSFORMS[name], series, SEEDS)


OPS = [
    A.RandomCrop(0.5),
    A.TimeShift(0.5),
    A.TimeShift(0.2, per_channel=True),
    A.SignFlip(0.5),
    A.Scale(0.3),
    A.Jitter(0.2),
    A.TimeMask(0.3),
]


@pytest.mark.parametrize("op", OPS, ids=lambda op: type(op).__name__)
def test_padding_stays_padding(op):
    _, x, mask = make_batch()
    out, out_mask = op(x, mask, SampleRandom(SEEDS))
    assert out.shape == x.shape and out_mask.shape == mask.shape
    assert not (out_mask & ~mask).any()  # no padding became real
    assert (out * ~out_mask[:, None, :] == 0).all()  # padding holds zeros
    if not isinstance(op, A.RandomCrop):
        assert torch.equal(out_mask, mask)
    # Rows stay prefix masks.
    n = out_mask.sum(1)
    assert torch.equal(out_mask, torch.arange(x.shape[2])[None] < n[:, None])


def test_time_shift_moves_values_without_changing_them():
    _, x, mask = make_batch()
    out, _ = A.TimeShift(0.5)(x, mask, SampleRandom(SEEDS))
    for b, n in enumerate(LENGTHS):
        real, moved = x[b, :, :n], out[b, :, :n]
        assert torch.equal(real.sort(dim=1).values, moved.sort(dim=1).values)
        shifts = [s for s in range(n) if torch.equal(torch.roll(real, s, dims=1), moved)]
        assert len(shifts) == 1 and min(shifts[0], n - shifts[0]) <= round(0.5 * n)


def test_channel_shifts_roll_each_channel():
    _, x, mask = make_batch(channels=2, lengths=(60, 64))
    out, _ = A.TimeShift(0.2, per_channel=True)(x, mask, SampleRandom(SEEDS[:2]))
    for b, n in enumerate((60, 64)):
        for c in range(2):
            real = x[b, c, :n]
            assert any(torch.equal(torch.roll(real, s), out[b, c, :n]) for s in range(n))


def test_sign_flip_twice_is_identity():
    _, x, mask = make_batch(channels=2)
    rand = SampleRandom(SEEDS)
    once, _ = A.SignFlip(0.5)(x, mask, rand)
    twice, _ = A.SignFlip(0.5)(once, mask, rand)
    assert torch.equal(twice, x)
    assert not torch.equal(once, x)  # some of the 4 samples were changed
    assert torch.equal(A.SignFlip(1.0)(x, mask, rand)[0], -x)


def test_scale_keeps_shape_up_to_a_positive_factor():
    _, x, mask = make_batch()
    out, _ = A.Scale(0.3, per_channel=True)(x, mask, SampleRandom(SEEDS))
    ratio = out[:, :, 0] / x[:, :, 0]
    torch.testing.assert_close(out, x * ratio[:, :, None])
    assert (ratio > 0).all() and ratio.std() > 0
    one, _ = A.Scale(0.3, per_channel=False)(x, mask, SampleRandom(SEEDS))
    r = one[:, :, 0] / x[:, :, 0]
    torch.testing.assert_close(r, r[:, :1].expand_as(r))


def test_crop_is_a_contiguous_piece():
    _, x, mask = make_batch()
    out, m = A.RandomCrop(0.5)(x, mask, SampleRandom(SEEDS))
    for b, n in enumerate(LENGTHS):
        k = int(m[b].sum())
        assert int(0.5 * n) <= k <= n
        starts = [s for s in range(n - k + 1) if torch.equal(x[b, :, s : s + k], out[b, :, :k])]
        assert starts


def test_jitter_is_relative_to_the_channel_spread():
    x = torch.zeros(2, 2, 5000)
    x[:, 0] = torch.linspace(-1, 1, 5000) * 100.0
    x[:, 1] = torch.linspace(-1, 1, 5000)
    mask = torch.ones(2, 5000, dtype=torch.bool)
    out, _ = A.Jitter(0.1)(x, mask, SampleRandom([1, 2]))
    noise_std = (out - x).std(dim=2)
    expected = 0.1 * x.std(dim=2, unbiased=False)
    torch.testing.assert_close(noise_std, expected, rtol=0.05, atol=0)


def test_time_mask_fills_one_span_with_the_channel_mean():
    _, x, mask = make_batch(lengths=(40, 50))
    out, m = A.TimeMask(0.5)(x, mask, SampleRandom([5, 6]))
    assert torch.equal(m, mask)
    for b, n in enumerate((40, 50)):
        changed = (out[b, :, :n] != x[b, :, :n]).any(0).nonzero().flatten()
        if len(changed):
            assert int(changed.max() - changed.min()) + 1 <= 0.5 * n
            mean = x[b, :, :n].mean(1)
            torch.testing.assert_close(out[b, :, int(changed[0])], mean)


def test_eval_transform_and_trim():
    _, x, mask = make_batch()
    view = A.SeriesEvalTransform()(x, mask)
    assert torch.equal(view["series"], x) and torch.equal(view["mask"], mask)
    cropped = A.SeriesTransform([A.SeriesView([A.RandomCrop(0.3)])])(x, mask, SEEDS)[0]
    assert cropped["mask"].shape[1] == int(cropped["mask"].sum(1).max())


def test_contrastive_strengths_are_its_arguments_and_zero_leaves_an_op_out():
    """The strengths a choice on validation varies (bench/choose_views.py): the default
    views are the recipe's four ops; a strength of "none" drops its op, and a view with
    crop and scale only equals one built from those two ops."""
    default = A.SeriesContrastiveTransform()
    kinds = [type(op) for op in default.views[0].ops]
    assert kinds == [A.RandomCrop, A.Scale, A.Jitter, A.TimeMask]
    assert [default.views[0].ops[i].__dict__ for i in (0, 1)] == [
        A.RandomCrop(0.5).__dict__,
        A.Scale(0.2).__dict__,
    ]
    two = A.SeriesContrastiveTransform(min_crop=0.8, jitter=0, time_mask=0)
    assert [type(op) for op in two.views[0].ops] == [A.RandomCrop, A.Scale]
    assert two.views[0].ops[0].min_fraction == 0.8
    _, series, mask = make_batch()
    by_hand = A.SeriesTransform([A.SeriesView([A.RandomCrop(0.8), A.Scale(0.2)])] * 2)
    for a, b in zip(two(series, mask, SEEDS), by_hand(series, mask, SEEDS), strict=True):
        assert torch.equal(a["series"], b["series"]) and torch.equal(a["mask"], b["mask"])
    assert (
        A.SeriesContrastiveTransform(min_crop=1, scale=0, jitter=0, time_mask=0).views[0].ops == []
    )
