"""Fake jets in the real files' layout, for tests and generated examples (no download;
not physics: docs/jets.md, "Inside ssl_core.points")."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ssl_core.points.features import to_p4
from ssl_core.points.jets import JET_FILES, jet_pt_mass

PION_MASS = 0.1396


def fake_jets(
    n: int, prongs: int, seed: int, max_particles: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` jets: constituents ``(n, max_particles, 4)`` float32 (px, py, pz, E, sorted by
    decreasing pT, zero-padded) and their counts ``(n,)``, at least 8 each."""
    rng = np.random.default_rng(seed)
    constituents = np.zeros((n, max_particles, 4), np.float32)
    counts = rng.integers(8, max(9, max_particles // 2), n)
    for i, count in enumerate(counts):
        axis = rng.uniform(-1.5, 1.5), rng.uniform(-np.pi, np.pi)
        centres = rng.normal(0.0, 0.25 if prongs > 1 else 0.02, (prongs, 2))
        prong = rng.integers(0, prongs, count)
        eta = axis[0] + centres[prong, 0] + rng.normal(0, 0.05, count)
        phi = axis[1] + centres[prong, 1] + rng.normal(0, 0.05, count)
        pt = np.sort(rng.exponential(600.0 / count, count) + 0.2)[::-1]
        constituents[i, :count] = to_p4(pt, eta, phi, np.full(count, PION_MASS))
    return constituents, counts


def write_fake_jet_files(
    root: str | Path,
    per_class: int = 50,
    seed: int = 0,
    files: Sequence[str] = JET_FILES,
    classes: Sequence[str] = ("qcd", "top"),
) -> Path:
    """``per_class`` jets of every class (label ``k``: ``classes[k]``, ``2k + 1`` prongs)
    in ``files`` under ``root``, with the arrays of the shared files (``constituents``,
    ``n_constituents``, ``jet``: pT, eta, phi, mass; ``label``). A file named after a
    class (``top.npz``) holds that class only; the other classes are shared out over the
    other files (over every file where each is named after a class)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    owner = {f: classes.index(Path(f).stem) for f in files if Path(f).stem in classes}
    shared = [f for f in files if f not in owner] or list(files)
    rows: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = {f: [] for f in files}
    for k in range(len(classes)):
        where = [f for f, c in owner.items() if c == k] or shared
        shares = [len(a) for a in np.array_split(np.arange(per_class), len(where))]
        for j, (f, n) in enumerate(zip(where, shares, strict=True)):
            # a class's own file draws with seed + label
            draw = seed + k if f in owner else seed + k + len(classes) * (j + 1)
            rows[f].append((*fake_jets(n, 2 * k + 1, draw, max_particles=64), k))
    for name, parts in rows.items():
        constituents = np.concatenate([c for c, _, _ in parts]) if parts else np.zeros((0, 64, 4))
        counts = np.concatenate([n for _, n, _ in parts]) if parts else np.zeros(0, np.int64)
        labels = np.concatenate([np.full(len(n), k) for _, n, k in parts]) if parts else counts
        # pT, eta, phi and mass of the sum of every jet's constituents
        total, (pt, mass) = constituents.astype(np.float64).sum(axis=1), jet_pt_mass(constituents)
        eta = np.arcsinh(total[:, 2] / np.maximum(pt, 1e-12))
        jet = np.stack([pt, eta, np.arctan2(total[:, 1], total[:, 0]), mass], axis=1)
        np.savez(
            root / name,
            constituents=constituents.astype(np.float32),
            n_constituents=counts.astype(np.int16),
            jet=jet.astype(np.float32),
            label=labels.astype(np.int8),
        )
    return root


def write_fake_example(
    folder: str | Path,
    classes: Sequence[str],
    channels: int | None = None,
    files: Sequence[str] = JET_FILES,
) -> Path:
    """``new-project --modality points``'s example: 50 fake jets per class in ``files``
    under ``folder`` (``channels``: not asked, the particles' own)."""
    return write_fake_jet_files(folder, files=files, classes=classes)
