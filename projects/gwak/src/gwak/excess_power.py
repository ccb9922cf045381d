"""A detector without learning, the baseline beside every learned space: coincident
excess power, thresholded on a background of noise and glitches.

Excess power (Anderson et al. 2001): per detector, the whitened strain's square averaged
over 50 ms (a burst's length). Glitches put that energy in one detector, so the score asks
for it in both, within the 10 ms light travel time (:func:`coincident_score`). A
simplified coincidence test (no time-frequency tiling, no clustering of tiles).

Background, as in real strain and GWAK: noise-only windows and windows with a glitch.
Time slides give more of it (:func:`slide_pairs`): L1 shifted by whole windows, so
nothing astrophysical is coincident but glitches and noise fluctuations are.

``python -m gwak.excess_power FOLDER [--skip N] [--slides K] [--far-per-hour R ...]``
measures it on a written dataset (:func:`gwak.strain.write_dataset`): the efficiency
per signal class and SNR bin at each false-alarm rate (per hour), on the zero-lag
background and on the time slides; and how often the single-detector statistic (the
energy summed over both detectors) fires on glitches when thresholded on noise alone.

- [0] Anderson, Brady, Creighton, Flanagan, Excess power statistics for detection of
  burst sources of gravitational radiation, Phys. Rev. D 63 (2001),
  https://arxiv.org/abs/gr-qc/0008066
- [1] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024),
  https://arxiv.org/abs/2309.11537 (background: noise and glitches; FAR per time)
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d


def detector_energy(strain: np.ndarray, sample_rate: float, window_s: float = 0.05) -> np.ndarray:
    """Moving averages ``(N, 2, T)`` over ``window_s`` seconds of the square of whitened
    strain ``(N, 2, T)`` (centred; the ends see a shorter window, left out by
    :func:`coincident_score`)."""
    width = max(1, int(round(window_s * sample_rate)))
    x = np.asarray(strain, dtype=np.float64) ** 2
    return uniform_filter1d(x, width, axis=-1, mode="constant")


def coincident_score(
    h1: np.ndarray,
    l1: np.ndarray,
    sample_rate: float,
    max_offset: float = 0.01,
    edge_s: float = 0.03,
) -> np.ndarray:
    """``max_t min(e_H1(t), max_{|dt| <= max_offset} e_L1(t + dt))`` ``(N,)`` of H1's and
    L1's energies ``(N, T)`` (:func:`detector_energy`), ``edge_s`` seconds left out at each
    end; ``max_offset`` (s): the largest arrival-time difference, half a sample added."""
    reach = int(np.ceil(max_offset * sample_rate + 0.5))
    wide = maximum_filter1d(l1, 2 * reach + 1, axis=-1, mode="nearest")
    edge = int(round(edge_s * sample_rate))
    both = np.minimum(h1, wide)
    return both[:, edge : h1.shape[-1] - edge].max(axis=-1)


def excess_power(
    strain: np.ndarray,
    sample_rate: float = 2048.0,
    window_s: float = 0.05,
    max_offset: float = 0.01,
    edge_s: float = 0.03,
    coincident: bool = True,
) -> np.ndarray:
    """Excess-power scores ``(N,)`` of whitened strain ``(N, 2, T)`` (H1, L1; higher: more
    power than noise): :func:`coincident_score`, or without ``coincident`` the largest
    average of the energy summed over the detectors (fires on single-detector glitches)."""
    energy = detector_energy(strain, sample_rate, window_s)
    if coincident:
        return coincident_score(energy[:, 0], energy[:, 1], sample_rate, max_offset, edge_s)
    edge = int(round(edge_s * sample_rate))
    return energy.sum(axis=1)[:, edge : energy.shape[-1] - edge].max(axis=-1)


def slide_pairs(n: int, slides: int) -> tuple[np.ndarray, np.ndarray]:
    """H1's and L1's window indices ``(n * slides,)`` each that time slides pair: H1 of
    window ``i`` with L1 of window ``(i + k) mod n``, ``k = 1 .. slides``, slide ``k``'s after
    ``k - 1``'s. The windows are a stream in the order given: shuffle windows grouped by
    class first, or a slide pairs glitches with glitches more often than a stream would."""
    if not 0 < slides < n:
        raise ValueError(f"slides must be in [1, {n - 1}] for {n} windows, got {slides}")
    i = np.tile(np.arange(n), slides)
    k = np.repeat(np.arange(1, slides + 1), n)
    return i, (i + k) % n


def slid_scores(
    strain: np.ndarray,
    slides: int,
    sample_rate: float = 2048.0,
    window_s: float = 0.05,
    max_offset: float = 0.01,
    edge_s: float = 0.03,
) -> np.ndarray:
    """Coincident scores ``(N * slides,)`` of time-slid background windows ``(N, 2, T)``
    (the pairs of :func:`slide_pairs`, in its order; ``slides < N``)."""
    n = len(strain)
    slide_pairs(n, slides)  # checks the count
    energy = detector_energy(strain, sample_rate, window_s)
    h1, l1 = energy[:, 0], energy[:, 1]
    return np.concatenate(
        [
            coincident_score(h1, np.roll(l1, -k, axis=0), sample_rate, max_offset, edge_s)
            for k in range(1, slides + 1)
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """Print the baseline's efficiencies on a written dataset (see the module docstring)."""
    import argparse

    from gwak.efficiency import BACKGROUND_CLASSES, SNR_BINS, efficiency_vs_snr, far_per_window
    from gwak.strain import CLASSES, GWConfig, load_dataset

    parser = argparse.ArgumentParser(prog="python -m gwak.excess_power", description=__doc__)
    parser.add_argument("folder", help="a dataset written by gwak.strain.write_dataset")
    parser.add_argument("--skip", type=int, default=0, help="leave out each class's first rows")
    parser.add_argument("--slides", type=int, default=100, help="time slides of the background")
    parser.add_argument("--far-per-hour", type=float, nargs="+", default=[10.0, 1.0])
    ns = parser.parse_args(argv)
    config = GWConfig()
    data = load_dataset(ns.folder)
    row = np.concatenate([np.arange(np.sum(data["label"] == k)) for k in np.unique(data["label"])])
    keep = row >= ns.skip
    strain, labels, snr = data["strain"][keep], data["label"][keep], data["snr"][keep]
    bins = np.array(SNR_BINS)
    is_bg = np.isin(labels, [CLASSES.index(c) for c in BACKGROUND_CLASSES])
    score = excess_power(strain, config.sample_rate)
    summed = excess_power(strain, config.sample_rate, coincident=False)
    noise, glitch = labels == CLASSES.index("background"), labels == CLASSES.index("glitch")
    # Slides of a stream in which glitches fall at random: the background windows (noise
    # first, then glitches) in a seeded random order before they are slid.
    order = np.random.default_rng(0).permutation(int(is_bg.sum()))
    slid = slid_scores(strain[is_bg][order], ns.slides, config.sample_rate)
    # A slid pair holds two glitches when H1's window has one in H1 and L1's in L1.
    where = data["glitch_detector"][keep][is_bg][order]
    i, j = slide_pairs(int(is_bg.sum()), ns.slides)
    two = (where[i] == 0) & (where[j] == 1)
    print(
        f"{int(noise.sum())} noise + {int(glitch.sum())} glitch windows of {config.duration} s "
        f"(zero lag: {is_bg.sum() * config.duration:.0f} s); {ns.slides} slides: "
        f"{slid.size} windows, {slid.size * config.duration / 3600:.2f} h, of which "
        f"{int(two.sum())} pair a glitch in H1 with one in L1"
    )
    for far in ns.far_per_hour:
        f = far_per_window(far, config.duration)
        c = efficiency_vs_snr(summed[noise], summed[glitch], snr[glitch], f, bins)
        fires = np.round(c.efficiency, 2).tolist()
        print(f"FAR {far:g}/h, summed, noise-only bg: fires on glitches {fires}")
        backgrounds = (
            ("zero lag", score[is_bg]),
            (f"{ns.slides} slides", slid),
            (f"{ns.slides} slides, no glitch pairs", slid[~two]),
        )
        for bg_name, bg in backgrounds:
            for k in (CLASSES.index(c) for c in ("bbh", "sine_gaussian", "white_noise_burst")):
                pick = labels == k
                c = efficiency_vs_snr(bg, score[pick], snr[pick], f, bins)
                print(
                    f"FAR {far:g}/h ({bg.size} bg windows, {c.measured_far / f * far:.2f}/h "
                    f"measured), coincident, {bg_name}: {CLASSES[k]:18s} "
                    f"{np.round(c.efficiency, 2).tolist()}"
                )


if __name__ == "__main__":
    main()
