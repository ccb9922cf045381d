"""The coincident excess-power baseline: coincidence window, glitches, time slides."""

from __future__ import annotations

import numpy as np
import pytest

from gwak import strain as gw
from gwak.excess_power import (
    coincident_score,
    detector_energy,
    excess_power,
    slid_scores,
    slide_pairs,
)

CONFIG = gw.GWConfig()
FS = CONFIG.sample_rate


@pytest.mark.parametrize(("lag_ms", "coincident"), [(0.0, True), (7.8, True), (-9.8, True),
                                                     (14.6, False), (-50.0, False)])  # fmt: skip
def test_power_counts_only_within_the_light_travel_time(lag_ms, coincident):
    h1, l1 = np.zeros((1, 1024)), np.zeros((1, 1024))
    h1[0, 500] = 1.0
    l1[0, 500 + int(round(lag_ms * 1e-3 * FS))] = 2.0
    score = coincident_score(h1, l1, FS, max_offset=0.01)
    assert score[0] == (1.0 if coincident else 0.0)


def test_edges_are_left_out():
    h1, l1 = np.zeros((1, 1024)), np.zeros((1, 1024))
    h1[0, 10], l1[0, 10] = 1.0, 1.0  # 5 ms from the start, inside the 30 ms edge
    assert coincident_score(h1, l1, FS, edge_s=0.03)[0] == 0.0
    assert coincident_score(h1, l1, FS, edge_s=0.0)[0] == 1.0


def test_energy_is_the_moving_average_of_the_square():
    x = np.random.default_rng(0).normal(size=(2, 2, 1024))
    e = detector_energy(x, FS, window_s=5 / FS)  # 5 samples
    np.testing.assert_allclose(e[1, 0, 100], np.mean(x[1, 0, 98:103] ** 2))


def test_glitches_fire_the_summed_score_and_not_the_coincident_one():
    """Loud glitches (SNR 20-30, one detector) stand above every noise window for the
    energy summed over the detectors, and among noise for the coincident score; a
    coincident sine-Gaussian of SNR 20 stands above both."""
    loud = gw.GWConfig(snr_range=(20.0, 30.0))
    noise = gw.generate_class("background", 200, seed=0, config=loud)["strain"]
    glitch = gw.generate_class("glitch", 20, seed=0, config=loud)["strain"]
    signal = gw.generate_class("sine_gaussian", 20, seed=0, config=loud)["strain"]
    summed = {k: excess_power(v, FS, coincident=False) for k, v in
              (("noise", noise), ("glitch", glitch))}  # fmt: skip
    both = {k: excess_power(v, FS) for k, v in
            (("noise", noise), ("glitch", glitch), ("signal", signal))}  # fmt: skip
    assert summed["glitch"].min() > summed["noise"].max()
    assert np.median(both["glitch"]) < np.quantile(both["noise"], 0.99)
    assert np.mean(both["signal"] > both["noise"].max()) >= 0.9


def test_time_slides_pair_other_windows_of_the_stream():
    i, j = slide_pairs(5, 3)
    assert len(i) == 15 and (i != j).all()
    assert np.bincount(j, minlength=5).tolist() == [3] * 5  # each L1 window once per slide
    strain = np.random.default_rng(1).normal(size=(5, 2, 256))
    slid = slid_scores(strain, 3, FS, edge_s=0.0)
    pairs = np.stack([strain[i, 0], strain[j, 1]], axis=1)
    np.testing.assert_allclose(slid, excess_power(pairs, FS, edge_s=0.0))
    with pytest.raises(ValueError, match="slides must be"):
        slide_pairs(5, 5)
