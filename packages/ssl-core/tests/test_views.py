"""``ssl_core.data.views``: how methods concatenate and count views of any modality, and
how a batch's views are walked, without knowing the modality."""

from __future__ import annotations

import pytest
import torch

from ssl_core.data.views import Views, cat, map_views, size


def test_image_views_are_torch_cat():
    a, b = torch.randn(2, 3, 4, 4), torch.randn(3, 3, 4, 4)
    assert torch.equal(cat([a, b]), torch.cat([a, b])) and size(b) == 3


@pytest.mark.parametrize(
    ("field", "shape", "axis"),
    [("points", (2, 5, 7), 1), ("series", (2, 12, 5), 2)],  # (B, P, F) and (B, C, T)
)
def test_padded_views_are_padded_to_the_longest_then_stacked(field, shape, axis):
    short = {field: torch.ones(shape), "mask": torch.ones(shape[0], 5, dtype=torch.bool)}
    long_shape = list(shape)
    long_shape[axis] = 9
    long = {field: torch.ones(long_shape), "mask": torch.ones(3, 9, dtype=torch.bool)}
    long[field] = long[field][:1].repeat(3, *[1] * (len(shape) - 1))
    both = cat([short, long])
    assert size(short) == 2 and size(both) == 5
    assert both["mask"].shape == (5, 9) and both[field].shape[axis] == 9
    assert not both["mask"][:2, 5:].any()  # the short view's padding is padding
    padded = both[field][:2].narrow(axis, 5, 4)
    assert torch.count_nonzero(padded) == 0


def test_dict_views_without_a_mask_are_refused():
    with pytest.raises(TypeError, match="no 'mask'"):
        cat([{"graph": torch.zeros(1)}])


def test_map_views_reaches_every_view_and_nothing_else():
    image, views = torch.zeros(2, 3), [torch.ones(2, 3), torch.ones(2, 3)]
    batch = {"labeled": {"image": image, "label": torch.ones(2)}, "unlabeled": {"views": views}}
    out = map_views(batch, lambda v: v + 1)
    assert torch.equal(out["labeled"]["image"], image + 1)
    assert all(torch.equal(v, torch.full((2, 3), 2.0)) for v in out["unlabeled"]["views"])
    assert out["labeled"]["label"] is batch["labeled"]["label"]  # labels pass untouched


def test_views_return_a_list_or_the_one_view():
    assert Views([len, len]).output([1, 2]) == [1, 2] and Views([len]).field == "views"
    single = Views([len], single=True)
    assert single.output([1]) == 1 and single.field == "image"
    with pytest.raises(ValueError, match="exactly one view"):
        Views([len, len], single=True)
