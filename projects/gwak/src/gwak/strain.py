"""Generated gravitational-wave strain, GWAK-style: two detectors (H1, L1), coloured
noise, whitening, and five classes of windows. Seeded and deterministic, no download: the
project's simulator (a simplified model, not LIGO data). The model and its defaults
(:class:`GWConfig`) are described in docs/series.md ("The generated strain").

Windows ``(2, T)`` (channel 0 = H1) of coloured noise (:func:`aligo_psd`) plus an
injection of a class of ``CLASSES`` (label = position) scaled to a network optimal SNR
uniform in ``snr_range``, then whitened (:func:`whiten`). Sample ``i`` of class ``k``
draws from ``numpy.random.default_rng((seed, k, i))``: the same whatever number of samples
is written.

What is written (:func:`write_dataset`): one ``<class>.npz`` per class with ``strain``
``(N, 2, T)`` float32 (whitened), ``label`` ``(N,)``, ``snr`` ``(N,)`` (network SNR; 0 for
background), ``offset`` ``(N,)`` seconds (L1 after H1; 0 for background and glitches),
``glitch_detector`` ``(N,)`` (0 = H1, 1 = L1; -1 for other classes), ``class_names``;
and ``config.json`` with every parameter. :func:`ensure_dataset` writes it on first use
under ``$SSL_CORE_CACHE/gwak/<hash of the parameters>``.

- [0] Raikman et al., GWAK: gravitational-wave anomalous knowledge with recurrent
  autoencoders, Mach. Learn.: Sci. Technol. 5 (2024), https://arxiv.org/abs/2309.11537
- [1] Ajith, Addressing the spin question in gravitational-wave searches, Phys. Rev. D 84
  (2011), https://arxiv.org/abs/1107.1267 (the aLIGO PSD fit)
- [2] Berti, Cardoso, Will, On gravitational-wave spectroscopy of massive black holes with
  LISA, Phys. Rev. D 73 (2006), https://arxiv.org/abs/gr-qc/0512160 (ring-down fits)
- [3] Cabero et al., Blip glitches in Advanced LIGO data, Class. Quantum Grav. 36 (2019),
  https://arxiv.org/abs/1901.05093
- [4] Anderson et al., Excess power statistics for detection of burst sources of
  gravitational radiation, Phys. Rev. D 63 (2001), https://arxiv.org/abs/gr-qc/0008066
  (antenna patterns in the wave frame)
- [5] Althouse et al., LIGO-T980044 (the sites' coordinates and arm directions)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ssl_core.data.sources import ArrayData, BadDataError
from ssl_core.manifest import cache_dir
from ssl_core.series.ts import BadSeriesError, series_problem

CLASSES = ("background", "glitch", "bbh", "sine_gaussian", "white_noise_burst")
DETECTORS = ("H1", "L1")
SOLAR_MASS_S = 4.925491025543576e-06  # G M_sun / c^3 in seconds


class GeneratedDataMismatchError(BadDataError, ValueError):
    """A folder of generated strain made with other parameters than asked (one line)."""


@dataclass(frozen=True)
class GWConfig:
    """Parameters of the generated strain (the model: docs/series.md).

    Args:
        sample_rate: Samples per second (Hz).
        duration: Window length in seconds.
        f_low: Lower edge of the band (Hz): noise, whitening and SNR.
        f_high: Upper edge of the band (Hz), below the Nyquist frequency.
        snr_range: Network optimal SNR of injections, drawn uniformly.
        mass_range: Component masses of the binary black holes (solar masses).
        sg_q_range: Quality factor of the sine-Gaussians (GWAK's ``data/sglf.prior``).
        sg_f0_range: Central frequency of the sine-Gaussians (Hz; GWAK's prior too).
        taper: Fraction of the window tapered at each end of an injection.
        version: The simulator's model version, part of the cache key (raised when the
            model changes), so an older model's cached windows are never reused.
    """

    sample_rate: float = 2048.0
    duration: float = 0.5
    f_low: float = 20.0
    f_high: float = 1000.0
    snr_range: tuple[float, float] = (5.0, 30.0)
    mass_range: tuple[float, float] = (10.0, 50.0)
    sg_q_range: tuple[float, float] = (25.0, 75.0)
    sg_f0_range: tuple[float, float] = (64.0, 512.0)
    taper: float = 0.05
    version: int = 2

    @property
    def length(self) -> int:
        """Samples per window ``T``."""
        return int(round(self.sample_rate * self.duration))

    def frequencies(self) -> np.ndarray:
        """Frequencies of the window's real FFT bins ``(T // 2 + 1,)``."""
        return np.fft.rfftfreq(self.length, 1.0 / self.sample_rate)

    def band(self) -> np.ndarray:
        """Which FFT bins lie in ``[f_low, f_high]`` ``(T // 2 + 1,)`` bool."""
        f = self.frequencies()
        return (f >= self.f_low) & (f <= self.f_high)

    def to_json(self) -> dict:
        return json.loads(json.dumps(asdict(self)))


def aligo_psd(f: np.ndarray) -> np.ndarray:
    """One-sided noise PSD (1/Hz) of aLIGO at design sensitivity, Ajith (2011)'s fit,
    at frequencies ``f`` (Hz, > 0; the fit holds above ~10 Hz); same shape as ``f``."""
    x = np.asarray(f, dtype=np.float64) / 215.0
    return 1e-49 * (x**-4.14 - 5.0 * x**-2 + 111.0 * (1 - x**2 + x**4 / 2) / (1 + x**2 / 2))


def _band_psd(config: GWConfig) -> tuple[np.ndarray, np.ndarray]:
    """``S_h`` at the FFT bins (1 outside the band, to divide safely) and the band."""
    band = config.band()
    psd = np.ones(band.shape)
    psd[band] = aligo_psd(config.frequencies()[band])
    return psd, band


def colored_noise(
    rng: np.random.Generator, config: GWConfig, shape: tuple[int, ...] = ()
) -> np.ndarray:
    """Stationary Gaussian noise ``(*shape, T)`` float64 with one-sided PSD ``S_h`` in the
    band, zero outside: FFT bin ``k`` is ``sqrt(T fs S_h(f_k) / 4) (a + i b)``, ``a, b ~
    N(0, 1)``, so ``E|X_k|^2 = T fs S_h / 2``."""
    psd, band = _band_psd(config)
    n, fs = config.length, config.sample_rate
    z = rng.standard_normal((*shape, len(psd), 2))
    spectrum = (z[..., 0] + 1j * z[..., 1]) * np.sqrt(n * fs * psd / 4.0) * band
    return np.fft.irfft(spectrum, n=n)


def whiten(strain: np.ndarray, config: GWConfig) -> np.ndarray:
    """Whiten strain ``(..., T)``: FFT divided by ``sqrt(S_h fs / 2)``, zero outside
    the band, inverse FFT. Noise becomes unit power per bin, and a signal's optimal SNR
    ``sqrt(sum w^2)`` of its whitened ``w`` (Parseval)."""
    psd, band = _band_psd(config)
    spectrum = np.fft.rfft(strain, axis=-1) / np.sqrt(psd * config.sample_rate / 2.0) * band
    return np.fft.irfft(spectrum, n=config.length, axis=-1)


def optimal_snr(h: np.ndarray, config: GWConfig) -> np.ndarray:
    """Optimal SNRs ``(...)`` ``rho = sqrt(4 int_band |h(f)|^2 / S_h(f) df)`` of signals
    ``(..., T)``: ``h(f) = rfft(h) / fs``, the integral a sum over the band's bins."""
    psd, band = _band_psd(config)
    fs, n = config.sample_rate, config.length
    hf = np.fft.rfft(h, axis=-1) / fs
    return np.sqrt(4.0 * np.sum(np.abs(hf) ** 2 / psd * band, axis=-1) * fs / n)


# ------------------------------------------------------------------------- waveforms


def bbh_amplitude_phase(
    t: np.ndarray, m1: float, m2: float, t_merge: float
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude and phase of a binary black-hole chirp (leading-order inspiral, then a
    phenomenological merger and ring-down; docs/series.md).

    The inspiral's amplitude ``(f / f_ISCO)^(2/3)`` keeps its ``f^(2/3)`` growth after
    ``f_ISCO`` while the frequency relaxes to the ring-down's, damped by the ring-down's
    ``exp(-(t - t_ISCO) / tau_rd)``; the product peaks after ISCO, at the merger, where
    it is 1. With ``r = f_rd / f_ISCO - 1`` the peak is ``tau_rd ln(5 r / (3 (1 + r)))``
    after ISCO (0.23 ``tau_rd`` for the final spin 0.69 used here, 10% above the
    amplitude at ISCO).

    Returns amplitude ``(T,)`` (1 at the merger ``t_merge``, s) and phase ``(T,)`` (rad, 0
    at ISCO) at times ``t`` ``(T,)`` (s), for component masses ``m1``, ``m2`` (solar masses).
    """
    m = (m1 + m2) * SOLAR_MASS_S
    mc = (m1 * m2) ** 0.6 / (m1 + m2) ** 0.2 * SOLAR_MASS_S
    f_isco = 1.0 / (6.0**1.5 * np.pi * m)
    tau_isco = 5.0 / 256.0 * mc ** (-5.0 / 3.0) * (np.pi * f_isco) ** (-8.0 / 3.0)
    # Ring-down of the l = m = 2 mode (Berti et al. 2006), final spin 0.69, mass 0.95 M.
    spin, m_final = 0.69, 0.95 * m
    f_rd = (1.5251 - 1.1568 * (1 - spin) ** 0.1292) / (2 * np.pi * m_final)
    q_rd = 0.7 + 1.4187 * (1 - spin) ** -0.4990
    tau_rd = q_rd / (np.pi * f_rd)
    r = f_rd / f_isco - 1.0
    u = min(1.0, 3.0 * (1.0 + r) / (5.0 * r))  # exp(-(t_peak - t_ISCO) / tau_rd)
    t_isco = t_merge + tau_rd * np.log(u)
    peak = (1.0 + r * (1.0 - u)) ** (2.0 / 3.0) * u

    def inspiral_phase(tau: np.ndarray) -> np.ndarray:
        return -2.0 * (tau / (5.0 * mc)) ** 0.625

    amplitude = np.zeros_like(t, dtype=np.float64)
    phase = np.zeros_like(t, dtype=np.float64)
    before = t < t_isco
    tau = t_isco - t[before] + tau_isco  # time to the Newtonian coalescence
    f = (5.0 / (256.0 * tau)) ** 0.375 * mc**-0.625 / np.pi
    amplitude[before] = (f / f_isco) ** (2.0 / 3.0)
    phase[before] = inspiral_phase(tau) - inspiral_phase(np.float64(tau_isco))
    dt = t[~before] - t_isco
    decay = np.exp(-dt / tau_rd)
    f = f_rd - (f_rd - f_isco) * decay
    amplitude[~before] = (f / f_isco) ** (2.0 / 3.0) * decay
    phase[~before] = 2 * np.pi * (f_rd * dt - (f_rd - f_isco) * tau_rd * (1.0 - decay))
    return amplitude / peak, phase


# ------------------------------------------------------------------------- detectors

EARTH_A, EARTH_E2 = 6378137.0, 6.69437999014e-3  # WGS-84 semi-major axis (m), e^2
SPEED_OF_LIGHT = 299792458.0
#: Vertex latitude and longitude (degrees) and the X and Y arms' azimuths (degrees
#: clockwise from North) of the LIGO sites (Althouse et al., LIGO-T980044; the values
#: LIGO's software uses, rounded); the arms' small tilts and the sites' heights are left
#: out.
SITES = {
    "H1": (46.45515, -119.40766, 324.0006, 234.0006),
    "L1": (30.56289, -90.77424, 252.2835, 162.2835),
}


def detector_geometry(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Vertex position (m, Earth-fixed, WGS-84 ellipsoid at height 0) ``(3,)`` and
    detector tensor ``D = (x x^T - y y^T) / 2`` ``(3, 3)`` of site ``name`` (``x``, ``y``:
    the arms' unit vectors)."""
    lat, lon, az_x, az_y = (np.radians(v) for v in SITES[name])
    n = EARTH_A / np.sqrt(1.0 - EARTH_E2 * np.sin(lat) ** 2)
    vertex = np.array(
        [
            n * np.cos(lat) * np.cos(lon),
            n * np.cos(lat) * np.sin(lon),
            n * (1.0 - EARTH_E2) * np.sin(lat),
        ]
    )
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    x = np.cos(az_x) * north + np.sin(az_x) * east
    y = np.cos(az_y) * north + np.sin(az_y) * east
    return vertex, 0.5 * (np.outer(x, x) - np.outer(y, y))


def antenna_response(phi: float, dec: float, psi: float) -> tuple[np.ndarray, float]:
    """The detectors' antenna patterns and L1's delay for a source at Earth-fixed
    longitude ``phi`` and latitude ``dec`` (rad) with polarization angle ``psi``.

    ``F+ = D : e+``, ``Fx = D : ex`` with ``e+ = X X^T - Y Y^T``, ``ex = X Y^T + Y X^T``,
    ``X, Y`` the wave frame's axes turned by ``psi`` about the direction of the source
    ``n`` (e.g. Anderson et al. 2001, arXiv:gr-qc/0008066). The wave reaches a site at
    ``r`` at ``-r . n / c`` after the Earth's centre, so L1 ``(r_H1 - r_L1) . n / c``
    after H1 (at most the light travel time between the sites, 10.0 ms).

    Returns:
        ``F`` ``(2, 2)`` (rows H1, L1; columns F+, Fx) and L1's delay after H1 (s).
    """
    n = np.array([np.cos(dec) * np.cos(phi), np.cos(dec) * np.sin(phi), np.sin(dec)])
    p = np.array([np.sin(phi), -np.cos(phi), 0.0])
    q = np.cross(n, p)
    x_axis = np.cos(psi) * p + np.sin(psi) * q
    y_axis = -np.sin(psi) * p + np.cos(psi) * q
    e_plus = np.outer(x_axis, x_axis) - np.outer(y_axis, y_axis)
    e_cross = np.outer(x_axis, y_axis) + np.outer(y_axis, x_axis)
    out, vertices = np.zeros((2, 2)), []
    for d, name in enumerate(DETECTORS):
        vertex, tensor = detector_geometry(name)
        out[d] = np.sum(tensor * e_plus), np.sum(tensor * e_cross)
        vertices.append(vertex)
    return out, float((vertices[0] - vertices[1]) @ n / SPEED_OF_LIGHT)


def random_sky(rng: np.random.Generator) -> tuple[float, float, float]:
    """An isotropic source direction and polarization: longitude uniform in
    ``[0, 2 pi)``, ``sin(dec)`` uniform in ``[-1, 1]``, ``psi`` uniform in ``[0, pi)``
    (GWAK's priors: ra uniform, dec cosine; a direction uniform in the Earth-fixed frame
    is one uniform on the sky at a random sidereal time)."""
    return (
        float(rng.uniform(0, 2 * np.pi)),
        float(np.arcsin(rng.uniform(-1.0, 1.0))),
        float(rng.uniform(0, np.pi)),
    )


def sine_gaussian(t: np.ndarray, t0: float, f0: float, q: float, phase: float) -> np.ndarray:
    """Sine-Gaussian ``exp(-(t - t0)^2 / (2 s^2)) sin(2 pi f0 (t - t0) + phase)`` with
    ``s = q / (sqrt(2) pi f0)``; ``(T,)`` from times ``(T,)``."""
    s = q / (np.sqrt(2.0) * np.pi * f0)
    return np.exp(-((t - t0) ** 2) / (2 * s**2)) * np.sin(2 * np.pi * f0 * (t - t0) + phase)


def white_noise_burst(
    rng: np.random.Generator, config: GWConfig, t0: float, width: float, f1: float, f2: float
) -> np.ndarray:
    """Band-passed (``[f1, f2]`` Hz) white noise under a Gaussian envelope of width
    ``width`` s centred at ``t0``; ``(T,)``."""
    f = config.frequencies()
    z = rng.standard_normal((len(f), 2))
    noise = np.fft.irfft((z[:, 0] + 1j * z[:, 1]) * ((f >= f1) & (f <= f2)), n=config.length)
    t = np.arange(config.length) / config.sample_rate
    return noise * np.exp(-((t - t0) ** 2) / (2 * width**2))


def shift(x: np.ndarray, seconds: float, config: GWConfig) -> np.ndarray:
    """Delay ``x`` ``(..., T)`` by ``seconds`` (a fractional-sample shift by an FFT phase;
    circular, so for transients away from the window's ends)."""
    f = config.frequencies()
    return np.fft.irfft(
        np.fft.rfft(x, axis=-1) * np.exp(-2j * np.pi * f * seconds), n=config.length, axis=-1
    )


def tukey(n: int, fraction: float) -> np.ndarray:
    """A Tukey window of ``n`` samples with cosine ramps of ``fraction * n`` each side."""
    w = np.ones(n)
    ramp = int(round(fraction * n))
    if ramp > 0:
        w[:ramp] = 0.5 * (1 - np.cos(np.pi * np.arange(ramp) / ramp))
        w[n - ramp :] = w[:ramp][::-1]
    return w


# ------------------------------------------------------------------------- samples


@dataclass
class StrainSample:
    """One generated window: raw ``strain`` ``(2, T)`` (noise + injection), the scaled
    injection ``signal`` ``(2, T)``, ``snr``, ``offset`` and ``glitch_detector`` as written
    (module docstring), ``antenna`` as :func:`injection` returns it."""

    strain: np.ndarray
    signal: np.ndarray
    snr: float
    offset: float
    glitch_detector: int
    antenna: np.ndarray


def injection(
    kind: str, rng: np.random.Generator, config: GWConfig
) -> tuple[np.ndarray, float, int, np.ndarray]:
    """An unscaled injection of class ``kind``: the waveform ``(2, T)``, L1's delay after
    H1 (s), the glitch's detector (-1: none) and the antenna patterns ``(2, 2)``.

    A signal (not a glitch) comes from one source (:func:`random_sky`): each detector sees
    ``h_d(t) = F+_d h+(t - t_d) + Fx_d hx(t - t_d)`` (:func:`antenna_response`).
    """
    t = np.arange(config.length) / config.sample_rate
    window = tukey(config.length, config.taper)
    h = np.zeros((2, config.length))
    antenna = np.zeros((2, 2))
    if kind == "background":
        return h, 0.0, -1, antenna
    if kind == "glitch":
        detector = int(rng.integers(2))
        t0 = rng.uniform(0.3, 0.7) * config.duration
        f0, q = rng.uniform(30.0, 250.0), rng.uniform(2.0, 5.0)
        h[detector] = sine_gaussian(t, t0, f0, q, rng.uniform(0, 2 * np.pi)) * window
        return h, 0.0, detector, antenna
    if kind not in CLASSES:
        raise ValueError(f"unknown class {kind!r}; one of {CLASSES}")
    antenna, offset = antenna_response(*random_sky(rng))
    delays = (0.0, offset)
    if kind == "bbh":
        m1, m2 = rng.uniform(*config.mass_range, 2)
        t_merge = rng.uniform(0.4, 0.8) * config.duration
        phase = rng.uniform(0, 2 * np.pi)
        cos_i = rng.uniform(-1.0, 1.0)  # inclination, isotropic
        for d, delay in enumerate(delays):
            amplitude, phi = bbh_amplitude_phase(t - delay, m1, m2, t_merge)
            plus = 0.5 * (1 + cos_i**2) * amplitude * np.cos(phi + phase)
            cross = cos_i * amplitude * np.sin(phi + phase)
            h[d] = antenna[d, 0] * plus + antenna[d, 1] * cross
    elif kind == "sine_gaussian":
        # GWAK's low-frequency prior (data/sglf.prior); eccentricity <= 0.01 there, so
        # circular polarization: h+ and hx in quadrature with equal amplitudes.
        t0 = rng.uniform(0.3, 0.7) * config.duration
        f0, q = rng.uniform(*config.sg_f0_range), rng.uniform(*config.sg_q_range)
        phase = rng.uniform(0, 2 * np.pi)
        for d, delay in enumerate(delays):
            plus = sine_gaussian(t - delay, t0, f0, q, phase + np.pi / 2)
            cross = sine_gaussian(t - delay, t0, f0, q, phase)
            h[d] = antenna[d, 0] * plus + antenna[d, 1] * cross
    else:  # white_noise_burst: independent band-limited noise in each polarization
        t0 = rng.uniform(0.3, 0.7) * config.duration
        f1 = rng.uniform(32.0, 256.0)
        width, f2 = rng.uniform(0.005, 0.05), f1 + rng.uniform(32.0, 512.0)
        plus, cross = (white_noise_burst(rng, config, t0, width, f1, f2) for _ in range(2))
        h[0] = antenna[0, 0] * plus + antenna[0, 1] * cross
        h[1] = shift(antenna[1, 0] * plus + antenna[1, 1] * cross, offset, config)
    return h * window, offset, -1, antenna


def make_sample(kind: str, rng: np.random.Generator, config: GWConfig) -> StrainSample:
    """Noise in both detectors plus an injection of class ``kind`` scaled to a network
    SNR drawn from ``config.snr_range``."""
    noise = colored_noise(rng, config, (2,))
    h, offset, detector, antenna = injection(kind, rng, config)
    snr = 0.0
    if kind != "background":
        snr = float(rng.uniform(*config.snr_range))
        h = h * (snr / float(np.sqrt(np.sum(optimal_snr(h, config) ** 2))))
    return StrainSample(noise + h, h, snr, offset, detector, antenna)


def generate_class(
    kind: str, n: int, seed: int = 0, config: GWConfig | None = None
) -> dict[str, np.ndarray]:
    """``n`` whitened windows of class ``kind``: the arrays of a ``<class>.npz`` (see the
    module docstring) but ``class_names``."""
    config = config or GWConfig()
    k = CLASSES.index(kind)
    samples = [make_sample(kind, np.random.default_rng((seed, k, i)), config) for i in range(n)]
    strain = np.stack([s.strain for s in samples]) if samples else np.zeros((0, 2, config.length))
    return {
        "strain": whiten(strain, config).astype(np.float32),
        "label": np.full(n, k, dtype=np.int64),
        "snr": np.array([s.snr for s in samples], dtype=np.float32),
        "offset": np.array([s.offset for s in samples], dtype=np.float32),
        "glitch_detector": np.array([s.glitch_detector for s in samples], dtype=np.int64),
    }


def _meta(n_per_class: int, seed: int, classes: tuple[str, ...], config: GWConfig) -> dict:
    """Every parameter of a written dataset: its ``config.json``."""
    return {"n_per_class": n_per_class, "seed": seed, "classes": list(classes), **config.to_json()}


def write_dataset(
    folder: str | Path,
    n_per_class: int = 1000,
    seed: int = 0,
    classes: tuple[str, ...] = CLASSES,
    config: GWConfig | None = None,
) -> Path:
    """Write ``n_per_class`` windows of each of ``classes`` (labels: positions in
    ``CLASSES``) to ``folder/<class>.npz``, then ``folder/config.json`` (written last: a
    folder with it is complete); sample ``i`` of class ``k`` uses the seed ``(seed, k, i)``.
    """
    config = config or GWConfig()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for kind in classes:
        arrays = generate_class(kind, n_per_class, seed, config)
        tmp = folder / f".{kind}.tmp.npz"
        np.savez(tmp, class_names=np.array(CLASSES), **arrays)
        tmp.replace(folder / f"{kind}.npz")
    meta = _meta(n_per_class, seed, classes, config)
    (folder / "config.json").write_text(json.dumps(meta, indent=1) + "\n")
    return folder


def cache_root(n_per_class: int, seed: int, classes: tuple[str, ...], config: GWConfig) -> Path:
    """``$SSL_CORE_CACHE/gwak/<short hash of every parameter>``: the default folder."""
    meta = json.dumps(_meta(n_per_class, seed, classes, config), sort_keys=True)
    return cache_dir("gwak") / hashlib.sha256(meta.encode()).hexdigest()[:12]


def ensure_dataset(
    root: str | Path | None = None,
    n_per_class: int = 1000,
    seed: int = 0,
    classes: tuple[str, ...] = CLASSES,
    config: GWConfig | None = None,
) -> Path:
    """The dataset's folder ``root`` (default :func:`cache_root`, ``$SSL_CORE_CACHE``
    defaulting to ``~/.cache/ssl-core``), written on first use by :func:`write_dataset`.

    Raises:
        GeneratedDataMismatchError: ``root`` holds strain made with other parameters.
    """
    config = config or GWConfig()
    root = Path(cache_root(n_per_class, seed, classes, config) if root is None else root)
    meta = _meta(n_per_class, seed, classes, config)
    if not (root / "config.json").is_file():
        write_dataset(root, n_per_class, seed, classes, config)
    elif (found := json.loads((root / "config.json").read_text())) != meta:
        differ = sorted(k for k in meta.keys() | found.keys() if meta.get(k) != found.get(k))
        raise GeneratedDataMismatchError(
            f"{root} holds strain generated with other parameters ({', '.join(differ)}); "
            "give another folder, or none (the cache keeps one per parameter set), or the "
            "parameters it was made with (e.g. --data.n_train, --data.n_test, --data.seed "
            "as in params.yaml's variant)."
        )
    return root


def load_dataset(
    folder: str | Path, classes: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """The arrays of a written dataset, classes concatenated in ``CLASSES`` order
    (``class_names``: all of ``CLASSES``, the label order)."""
    folder = Path(folder)
    meta = json.loads((folder / "config.json").read_text())
    chosen = [c for c in CLASSES if c in (classes or meta["classes"])]
    parts = [dict(np.load(folder / f"{c}.npz")) for c in chosen]
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k != "class_names"}
    out["class_names"] = np.array(CLASSES)
    return out


class StrainArrays(ArrayData):
    """The windows of ``classes`` of a written dataset in ``root``, in memory, with stable
    ids (``bbh.npz:17``: class file and row), classes and SNRs (:class:`gwak.dataset.GWAK`'s
    data)."""

    error = BadSeriesError

    def __init__(self, root: str | Path, classes: tuple[str, ...] = CLASSES) -> None:
        data = load_dataset(root, tuple(classes))
        self.strain = data["strain"]
        self.snr = data["snr"]
        self.offset = data["offset"]
        self.glitch_detector = data["glitch_detector"]
        targets = data["label"]
        rows = np.concatenate([np.arange(np.sum(targets == k)) for k in np.unique(targets)])
        super().__init__(
            [f"{CLASSES[k]}.npz:{r}" for k, r in zip(targets, rows, strict=True)], targets
        )

    def get(self, i: int) -> np.ndarray:
        """Whitened strain ``(2, T)`` float32 (H1, L1) of window ``i``."""
        return self.strain[i]

    def problems(self) -> dict[int, str]:
        """Windows with NaN or inf values (none, unless a file was damaged)."""
        broken = np.flatnonzero(~np.isfinite(self.strain).all(axis=(1, 2)))
        return {int(i): series_problem(self.strain[i]) for i in broken}


def main(argv: list[str] | None = None) -> None:
    """``python -m gwak.strain FOLDER [--n-per-class N] [--seed S]``: write the
    dataset with the default model and print, per class, the SNRs and offsets written,
    and the noise's Welch PSD against the model (the check docs/series.md quotes)."""
    import argparse
    import time

    from scipy.signal import welch

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder")
    parser.add_argument("--n-per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = GWConfig()
    start = time.perf_counter()
    folder = write_dataset(args.folder, args.n_per_class, args.seed, CLASSES, config)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
    print(
        f"wrote {folder}: {len(CLASSES)} x {args.n_per_class} windows (2, {config.length}) in {seconds:.1f} s, {size:.1f} MiB"
    )
    data = load_dataset(folder)
    for k, name in enumerate(CLASSES):
        pick = data["label"] == k
        snr, off = data["snr"][pick], np.abs(data["offset"][pick])
        print(
            f"{name:18s} snr {snr.min():5.1f}-{snr.max():5.1f}  |offset| max {1e3 * off.max():4.1f} ms  whitened std {data['strain'][pick].std():.3f}"
        )
    noise = colored_noise(np.random.default_rng(args.seed), config, (256,))
    f, p = welch(noise, fs=config.sample_rate, nperseg=512, axis=-1)
    band = (f >= 30) & (f <= 900)
    ratio = p.mean(0)[band] / aligo_psd(f[band])
    print(
        f"noise Welch PSD / model over 30-900 Hz (256 windows, 4 Hz bins): mean {ratio.mean():.3f}, range {ratio.min():.3f}-{ratio.max():.3f}"
    )


if __name__ == "__main__":
    main()
