"""Efficiency vs SNR at a fixed false-alarm rate, on synthetic scores."""

from __future__ import annotations

import numpy as np
import pytest

from gwak.efficiency import (
    efficiency_vs_snr,
    far_per_window,
    plot_efficiency,
    signal_efficiency,
    threshold_at_far,
)


def test_threshold_lets_through_at_most_far_of_background():
    rng = np.random.default_rng(0)
    background = rng.normal(size=10_000)
    for far in (1e-3, 1e-2, 0.1):
        t = threshold_at_far(background, far)
        passed = np.mean(background > t)
        assert passed <= far
        assert passed >= far - 1.5 / background.size  # and not far below it
    assert threshold_at_far(np.arange(10.0), 1e-3) == 9.0  # fewer than 1 / far: the max
    with pytest.raises(ValueError, match="no background"):
        threshold_at_far(np.array([]))


def test_efficiency_rises_with_snr_as_constructed():
    """Background scores N(0, 1); a signal of SNR rho scores N(rho, 1). At far = 1e-3
    the threshold is ~3.09, so the efficiency is P(N(rho, 1) > 3.09) = Phi(rho - 3.09)."""
    from scipy.stats import norm

    rng = np.random.default_rng(1)
    background = rng.normal(size=200_000)
    snr = rng.uniform(0, 8, size=40_000)
    signal = snr + rng.normal(size=snr.size)
    curve = efficiency_vs_snr(background, signal, snr, far=1e-3, bins=np.arange(0, 9, 1.0))
    assert curve.threshold == pytest.approx(norm.isf(1e-3), abs=0.05)
    assert curve.measured_far <= 1e-3
    expected = np.array(
        [
            np.mean(norm.sf(curve.threshold - np.linspace(a, b, 101)))
            for a, b in zip(curve.bin_edges[:-1], curve.bin_edges[1:], strict=True)
        ]
    )
    np.testing.assert_allclose(curve.efficiency, expected, atol=0.03)
    assert curve.counts.sum() == snr.size
    assert (np.diff(curve.efficiency) >= 0).all() and curve.efficiency[-1] == 1.0
    assert (curve.error <= 0.5 / np.sqrt(curve.counts) + 1e-12).all()


def test_empty_bin_is_nan_and_lengths_must_match():
    curve = efficiency_vs_snr(
        np.zeros(100), np.ones(3), np.array([1.0, 2.0, 2.5]), bins=np.array([0, 1.5, 3, 10])
    )
    assert curve.counts.tolist() == [1, 2, 0]
    assert curve.efficiency[:2].tolist() == [1.0, 1.0] and np.isnan(curve.efficiency[2])
    with pytest.raises(ValueError, match="SNRs"):
        efficiency_vs_snr(np.zeros(10), np.ones(3), np.ones(2))


def test_plot_writes_a_png_named_efficiency(tmp_path):
    rng = np.random.default_rng(2)
    snr = rng.uniform(5, 30, 500)
    curves = {
        "sine_gaussian": efficiency_vs_snr(
            rng.normal(size=2000), snr / 5 + rng.normal(size=500), snr
        ),
        "white_noise_burst": efficiency_vs_snr(
            rng.normal(size=2000), snr / 10 + rng.normal(size=500), snr
        ),
    }
    path = plot_efficiency(curves, tmp_path / "plots", "FAR")
    assert path.name == "efficiency_vs_snr.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_far_per_hour_counts_the_background_live_time():
    # 2,000 windows of 0.5 s are 1,000 s: 10 false alarms an hour let floor(2.78) = 2 pass.
    assert far_per_window(10.0, 0.5) * 2000 == pytest.approx(10.0 * 1000 / 3600)
    names = ["background", "glitch", "sine_gaussian"]
    rng = np.random.default_rng(3)
    scores = np.r_[rng.normal(size=2000), 5 + rng.normal(size=100)]
    labels = np.r_[np.zeros(1000, int), np.ones(1000, int), np.full(100, 2)]
    snr = np.r_[np.zeros(2000), rng.uniform(5, 30, 100)]
    entry, curves = signal_efficiency(scores, labels, snr, names, ["sine_gaussian"], 0.5, 10.0)
    assert entry["false_alarms"] == 2
    assert entry["threshold"] == np.sort(scores[:2000])[-3]
    assert entry["measured_far_per_hour"] == pytest.approx(2 * 3600 / 1000)
    assert entry["classes"]["sine_gaussian"]["auroc"] > 0.99
    assert sum(entry["classes"]["sine_gaussian"]["counts"]) == 100


def test_glitches_in_the_background_raise_the_threshold():
    """A score that fires on glitches (they score 8, signals 5) detects every signal on a
    noise-only background and none on GWAK's background of noise and glitches."""
    names = ["background", "glitch", "bbh"]
    rng = np.random.default_rng(4)
    scores = np.r_[rng.normal(size=1000), np.full(1000, 8.0), np.full(200, 5.0)]
    labels = np.r_[np.zeros(1000, int), np.ones(1000, int), np.full(200, 2)]
    snr = np.r_[np.zeros(2000), rng.uniform(5, 30, 200)]
    noise_only, _ = signal_efficiency(
        scores, labels, snr, names, ["bbh"], 0.5, 10.0, background_classes=("background",)
    )
    gwak, _ = signal_efficiency(scores, labels, snr, names, ["bbh"], 0.5, 10.0)
    assert noise_only["classes"]["bbh"]["efficiency"] == [1.0] * 5
    assert gwak["classes"]["bbh"]["efficiency"] == [0.0] * 5
    # above every noise window, below every glitch: half the pairs ordered right
    assert gwak["classes"]["bbh"]["auroc"] == pytest.approx(0.5, abs=1e-3)
    with pytest.raises(ValueError, match="no test window of the background"):
        signal_efficiency(scores[2000:], labels[2000:], snr[2000:], names, ["bbh"], 0.5)
