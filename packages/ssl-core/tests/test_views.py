"""``ssl_core.methods.views``: the one place methods concatenate and count views of any modality."""

from __future__ import annotations

import pytest
import torch

from ssl_core.methods.views import cat, size


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


def test_unknown_views_are_refused():
    with pytest.raises(TypeError, match="cannot concatenate"):
        cat([{"graph": torch.zeros(1)}])
