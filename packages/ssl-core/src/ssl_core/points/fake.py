"""Fake jets in the real files' layout, for tests and generated examples (no download).

Not physics: a jet is 1 (``qcd``) or 3 (``top``) Gaussian prongs of particles in the
eta-phi plane around a random axis, pT falling exponentially, pion masses; enough that
the two classes differ in mass and shape and that the code sees the real arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ssl_core.points.jets import to_p4

PION_MASS = 0.1396


def fake_jets(
    n: int, prongs: int, seed: int, max_particles: int = 200, min_particles: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` jets: constituents ``(n, max_particles, 4)`` float32 (px, py, pz, E, sorted by
    decreasing pT, zero-padded) and their counts ``(n,)``."""
    rng = np.random.default_rng(seed)
    constituents = np.zeros((n, max_particles, 4), np.float32)
    counts = rng.integers(min_particles, max(min_particles + 1, max_particles // 2), n)
    for i, count in enumerate(counts):
        axis = rng.uniform(-1.5, 1.5), rng.uniform(-np.pi, np.pi)
        centres = rng.normal(0.0, 0.25 if prongs > 1 else 0.02, (prongs, 2))
        prong = rng.integers(0, prongs, count)
        eta = axis[0] + centres[prong, 0] + rng.normal(0, 0.05, count)
        phi = axis[1] + centres[prong, 1] + rng.normal(0, 0.05, count)
        pt = np.sort(rng.exponential(600.0 / count, count) + 0.2)[::-1]
        constituents[i, :count] = to_p4(pt, eta, phi, np.full(count, PION_MASS))
    return constituents, counts


def write_fake_jet_files(root: str | Path, per_class: int = 50, seed: int = 0) -> Path:
    """``root/top.npz`` (3 prongs, label 1) and ``root/qcd.npz`` (1 prong, label 0) with
    the arrays of the shared files: ``constituents``, ``n_constituents``, ``jet`` (pT,
    eta, phi, mass of the constituents' sum) and ``label``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, prongs, label in (("top.npz", 3, 1), ("qcd.npz", 1, 0)):
        constituents, counts = fake_jets(per_class, prongs, seed + label, max_particles=64)
        total = constituents.astype(np.float64).sum(axis=1)
        pt = np.hypot(total[:, 0], total[:, 1])
        jet = np.stack(
            [
                pt,
                np.arcsinh(total[:, 2] / pt),
                np.arctan2(total[:, 1], total[:, 0]),
                np.sqrt(np.clip(total[:, 3] ** 2 - (total[:, :3] ** 2).sum(1), 0, None)),
            ],
            axis=1,
        )
        np.savez(
            root / name,
            constituents=constituents,
            n_constituents=counts.astype(np.int16),
            jet=jet.astype(np.float32),
            label=np.full(per_class, label, np.int8),
        )
    return root


def write_fake_example(
    folder: str | Path, name: str, classes: Sequence[str], channels: int
) -> Path:
    """``new-project --modality points``'s example: fake jet files in ``folder`` (the
    project's name, classes and channels are the jets' own: top against QCD)."""
    return write_fake_jet_files(folder)
