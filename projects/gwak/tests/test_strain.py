"""The generated GWAK-style strain: noise PSD, whitening, SNR, seeds, glitches, the sites'
antenna patterns and delays, the waveforms."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import welch

from gwak import strain as gw
from ssl_core.data.modality import mean_std

CONFIG = gw.GWConfig()


def test_aligo_psd_fit_values():
    # Ajith (2011)'s fit at x = 1 (215 Hz): 1e-49 (1 - 5 + 111 * 0.5 / 1.5) = 3.3e-48.
    assert gw.aligo_psd(np.array([215.0]))[0] == pytest.approx(3.3e-48, rel=1e-12)
    f = np.linspace(10, 1000, 500)
    psd = gw.aligo_psd(f)
    assert (psd > 0).all()
    assert f[np.argmin(psd)] == pytest.approx(215, abs=60)  # the bucket


def test_noise_psd_matches_model():
    """Welch estimate of 128 windows (512-sample Hann segments, 4 Hz bins) against S_h.

    Tolerances: each bin averages 3 segments x 128 windows, a relative spread of ~5%
    (measured over seeds 0-5: every bin within 0.87-1.18 of the model, the band mean
    within 0.997-1.005); so every bin within 25% and the band mean within 2%. (8 Hz bins
    read 26% high at 32 Hz: the Hann window's leakage on the steep low-frequency wall.)"""
    x = gw.colored_noise(np.random.default_rng(0), CONFIG, (128,))
    f, p = welch(x, fs=CONFIG.sample_rate, nperseg=512, axis=-1)
    band = (f >= 30) & (f <= 900)
    ratio = p.mean(0)[band] / gw.aligo_psd(f[band])
    assert np.abs(ratio - 1).max() < 0.25
    assert abs(ratio.mean() - 1) < 0.02
    # Nothing outside the band [f_low, f_high] (the fit does not hold below ~10 Hz).
    spectrum = np.abs(np.fft.rfft(x, axis=-1))
    assert spectrum[:, ~CONFIG.band()].max() < 1e-9 * spectrum[:, CONFIG.band()].max()


def test_whitened_noise_is_white_with_unit_power_per_bin():
    x = gw.whiten(gw.colored_noise(np.random.default_rng(1), CONFIG, (64,)), CONFIG)
    f, p = welch(x, fs=CONFIG.sample_rate, nperseg=256, axis=-1)
    band = (f >= 30) & (f <= 900)
    # Unit power per FFT bin is a flat one-sided PSD of 2 / fs.
    ratio = p.mean(0)[band] / (2.0 / CONFIG.sample_rate)
    assert np.abs(ratio - 1).max() < 0.25
    assert x.var() == pytest.approx(CONFIG.band().sum() / (CONFIG.length // 2), rel=0.03)


@pytest.mark.parametrize("kind", gw.CLASSES[1:])
def test_injection_snr_is_the_one_asked(kind):
    s = gw.make_sample(kind, np.random.default_rng(3), CONFIG)
    assert CONFIG.snr_range[0] <= s.snr <= CONFIG.snr_range[1]
    network = np.sqrt(np.sum(gw.whiten(s.signal, CONFIG) ** 2))  # Parseval
    assert network == pytest.approx(s.snr, rel=1e-6)
    assert np.sqrt(np.sum(gw.optimal_snr(s.signal, CONFIG) ** 2)) == pytest.approx(s.snr, rel=1e-6)


def test_matched_filter_snr_in_noise():
    """The known template against 200 whitened noise realisations: the matched-filter
    output has mean rho (the SNR asked) and unit spread, which ties the noise level,
    the PSD and the SNR formula together."""
    s = gw.make_sample("bbh", np.random.default_rng(4), CONFIG)
    template = gw.whiten(s.signal, CONFIG)
    unit = template / np.sqrt(np.sum(template**2))
    noise = gw.whiten(gw.colored_noise(np.random.default_rng(5), CONFIG, (200, 2)), CONFIG)
    z = np.sum((noise + template) * unit, axis=(-2, -1))
    assert z.mean() == pytest.approx(s.snr, abs=0.25)  # std of the mean: 1 / sqrt(200)
    assert z.std() == pytest.approx(1.0, abs=0.15)


def test_determinism_by_seed_and_independent_of_count():
    a = gw.generate_class("sine_gaussian", 3, seed=7)
    b = gw.generate_class("sine_gaussian", 5, seed=7)
    c = gw.generate_class("sine_gaussian", 3, seed=8)
    for key in ("strain", "snr", "offset"):
        np.testing.assert_array_equal(a[key], b[key][:3])
    assert not np.array_equal(a["strain"], c["strain"])
    assert a["strain"].shape == (3, 2, CONFIG.length) and a["strain"].dtype == np.float32


def test_glitch_in_one_detector_only():
    for i in range(8):
        s = gw.make_sample("glitch", np.random.default_rng((0, 1, i)), CONFIG)
        d = s.glitch_detector
        assert d in (0, 1)
        assert np.abs(s.signal[1 - d]).max() == 0.0
        assert np.abs(s.signal[d]).max() > 0.0
        assert s.offset == 0.0


def test_site_geometry_light_travel_time_and_antenna_patterns():
    """The LIGO sites as the field knows them: 10.0 ms apart by light; over the sky
    ``<F+^2> = <Fx^2> = 1/5`` for an interferometer with arms at right angles; H1 and L1
    nearly opposite (their arms are nearly rotated by 90 degrees on the globe)."""
    h1, tensor = gw.detector_geometry("H1")
    l1, _ = gw.detector_geometry("L1")
    assert np.linalg.norm(h1 - l1) / gw.SPEED_OF_LIGHT == pytest.approx(0.01001, abs=5e-5)
    assert np.trace(tensor) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    drawn = [gw.antenna_response(*gw.random_sky(rng)) for _ in range(4000)]
    f = np.array([a for a, _ in drawn])
    delays = np.array([d for _, d in drawn])
    assert np.abs(delays).max() <= 0.01002 and np.abs(delays).max() > 0.0095
    np.testing.assert_allclose((f**2).mean(axis=0), 0.2, atol=0.02)
    overlap = np.mean(np.sum(f[:, 0] * f[:, 1], 1)) / np.sqrt(
        np.mean(np.sum(f[:, 0] ** 2, 1)) * np.mean(np.sum(f[:, 1] ** 2, 1))
    )
    assert -0.95 < overlap < -0.8
    # A source beyond H1 on the line from L1 to H1: the wave reaches H1 first, then L1
    # after the full light travel time.
    n = (h1 - l1) / np.linalg.norm(h1 - l1)
    _, delay = gw.antenna_response(np.arctan2(n[1], n[0]), np.arcsin(n[2]), 0.0)
    assert delay == pytest.approx(np.linalg.norm(h1 - l1) / gw.SPEED_OF_LIGHT, rel=1e-9)


@pytest.mark.parametrize("kind", ["bbh", "sine_gaussian", "white_noise_burst"])
def test_offsets_within_light_travel_time(kind):
    data = gw.generate_class(kind, 12, seed=1)
    assert np.abs(data["offset"]).max() <= 0.01002
    assert np.abs(data["offset"]).max() > 0.002  # drawn, not all zero


def test_both_detectors_see_one_circularly_polarized_source():
    """A sine-Gaussian is circularly polarized, so a detector sees ``|F| env cos(...)``
    with ``|F|^2 = F+^2 + Fx^2``: the detectors' SNRs stand in the ratio of their
    antenna patterns' norms, and L1's waveform is H1's delayed by the offset and turned
    in phase (its envelope's peak moves by the offset)."""
    from scipy.signal import hilbert

    for i in range(6):
        s = gw.make_sample("sine_gaussian", np.random.default_rng((2, 3, i)), CONFIG)
        rho = np.sqrt(np.sum(gw.whiten(s.signal, CONFIG) ** 2, axis=-1))
        norm = np.sqrt(np.sum(s.antenna**2, axis=1))
        assert rho[1] / rho[0] == pytest.approx(norm[1] / norm[0], rel=0.05)
        envelope = np.abs(hilbert(s.signal, axis=-1))
        lag = (np.argmax(envelope[1]) - np.argmax(envelope[0])) / CONFIG.sample_rate
        assert lag == pytest.approx(s.offset, abs=1.5 / CONFIG.sample_rate)


def test_glitches_and_sine_gaussians_are_apart():
    """GWAK's sine-Gaussian prior (Q 25-75, f0 64-512 Hz) and the blips (Q 2-5): the
    glitches last 1-3 cycles, the sine-Gaussians many."""
    assert CONFIG.sg_q_range == (25.0, 75.0) and CONFIG.sg_f0_range == (64.0, 512.0)
    t = np.arange(CONFIG.length) / CONFIG.sample_rate
    for i in range(5):
        sg = gw.make_sample("sine_gaussian", np.random.default_rng((0, 3, i)), CONFIG).signal[0]
        gl = gw.make_sample("glitch", np.random.default_rng((0, 1, i)), CONFIG).signal.sum(0)
        # Time the energy takes: the spread of t weighted by h^2.
        spread = [np.sqrt(np.cov(t, aweights=h**2)) for h in (sg, gl)]
        assert spread[0] > 3 * spread[1]


def test_bbh_amplitude_peaks_at_the_merger():
    t = np.arange(CONFIG.length) / CONFIG.sample_rate
    amplitude, _ = gw.bbh_amplitude_phase(t, 30.0, 30.0, t_merge=0.3)
    assert amplitude.max() == pytest.approx(1.0, abs=0.01)
    assert abs(t[np.argmax(amplitude)] - 0.3) <= 1.0 / CONFIG.sample_rate
    # It rises through ISCO (f = f_ISCO ~73 Hz for 60 solar masses) to the peak.
    rising = amplitude[(t > 0.25) & (t <= 0.3)]
    assert (np.diff(rising) > 0).all()
    assert (np.diff(amplitude[t > 0.301]) < 0).all()  # and rings down


def test_bbh_chirp_frequency_rises():
    t = np.arange(CONFIG.length) / CONFIG.sample_rate
    amplitude, phi = gw.bbh_amplitude_phase(t, 30.0, 30.0, t_merge=0.4)
    h = amplitude * np.cos(phi)
    crossings = t[:-1][np.diff(np.sign(h)) != 0]
    before = crossings[crossings < 0.4]
    periods = np.diff(before)
    assert (np.diff(periods) < 1e-3).all()  # half-periods shrink (up to a sample)
    assert periods[-5:].mean() < 0.5 * periods[:5].mean()
    f_isco = 1.0 / (6**1.5 * np.pi * 60 * gw.SOLAR_MASS_S)  # ~73 Hz
    assert 1 / (2 * periods[-3:].mean()) == pytest.approx(f_isco, rel=0.15)
    assert np.abs(h[t > 0.45]).max() < 0.05  # the ring-down has died out


def test_write_and_ensure_dataset(tmp_path, monkeypatch):
    folder = gw.write_dataset(tmp_path / "d", n_per_class=2, seed=0)
    meta = json.loads((folder / "config.json").read_text())
    assert meta["n_per_class"] == 2 and meta["sample_rate"] == 2048.0
    data = gw.load_dataset(folder)
    assert data["strain"].shape == (10, 2, CONFIG.length)
    assert data["label"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert data["class_names"].tolist() == list(gw.CLASSES)
    assert (data["snr"][data["label"] == 0] == 0).all() and (data["snr"][2:] >= 5).all()
    monkeypatch.setenv("SSL_CORE_CACHE", str(tmp_path / "cache"))
    root = gw.ensure_dataset(n_per_class=1, classes=("background", "bbh"))
    assert root.parent == tmp_path / "cache" / "gwak"
    assert sorted(p.name for p in root.iterdir()) == ["background.npz", "bbh.npz", "config.json"]
    mtime = (root / "bbh.npz").stat().st_mtime_ns
    assert gw.ensure_dataset(n_per_class=1, classes=("background", "bbh")) == root
    assert (root / "bbh.npz").stat().st_mtime_ns == mtime  # not written twice
    assert gw.ensure_dataset(n_per_class=2, classes=("background", "bbh")) != root
    with pytest.raises(ValueError, match="other parameters .*n_per_class"):
        gw.ensure_dataset(root, n_per_class=2, classes=("background", "bbh"))


def test_arrays_list_samples_with_ids(tmp_path):
    root = gw.ensure_dataset(tmp_path / "g", n_per_class=3)
    src = gw.StrainArrays(root, classes=("background", "glitch", "bbh"))
    assert len(src) == 9
    assert src.ids[:4] == [
        "background.npz:0",
        "background.npz:1",
        "background.npz:2",
        "glitch.npz:0",
    ]
    assert src.targets.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert src.read(src.index("bbh.npz:1")).shape == (2, CONFIG.length)
    assert src.bad_samples() == {}
    mean, std = mean_std([src.read(i) for i in range(len(src))], axis=1)
    assert mean.shape == (2,) and np.abs(mean).max() < 0.1 and ((std > 0.8) & (std < 1.5)).all()
    assert (src.snr[3:] >= 5).all() and (src.glitch_detector[3:6] >= 0).all()
    # All five classes were written; another listing reads the same files.
    held_out = gw.StrainArrays(root, classes=("sine_gaussian",))
    assert held_out.targets.tolist() == [3, 3, 3] and held_out.ids[0] == "sine_gaussian.npz:0"
