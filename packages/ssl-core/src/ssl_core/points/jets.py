"""Particle jets on disk: the source that lists and reads them, and their kinematics.

The shared top-tagging files (``top.npz``, ``qcd.npz``; see ``../shared/data/README.md``)
hold per file ``constituents`` ``(N, 200, 4)`` float32 (px, py, pz, E in GeV, sorted by
decreasing pT, zero-padded), ``n_constituents`` ``(N,)``, ``jet`` ``(N, 4)`` (pT, eta,
phi, mass) and ``label`` ``(N,)`` (1 = top, the signal class). A jet's id is its file and
row, ``top.npz:17``: stable across runs, and what split files name.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys. 7,
  014 (2019), https://arxiv.org/abs/1902.09914 (the reference dataset this one mirrors)
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_core.data.sources import BadDataError

JET_FILES = ("top.npz", "qcd.npz")


class BadJetError(BadDataError, ValueError):
    """A jet that cannot be used: NaN or inf in its constituents, or no constituents.

    A :class:`~ssl_core.data.sources.BadDataError`, so ``train`` shows it as one line."""


@dataclass(frozen=True)
class JetSample:
    """One jet: its id (``file:row``), class (``-1`` when unknown) and constituent count."""

    id: str
    target: int
    n_constituents: int


class JetSource:
    """Jets of ``.npz`` files under ``root``, all held in memory (the shared files are 32
    MB each; a jet is a ``(n, 4)`` slice, no copy until read).

    Args:
        root: Folder of the files.
        files: File names to read, in this order (their rows become the samples).
        signal_class: The class whose score is the positive one in two-class figures
            (ROC AUC, background rejection): 1 = top.
        class_names: Names of the classes 0, 1, ... (for plots and ``metrics.json``).
    """

    def __init__(
        self,
        root: str | Path,
        files: Sequence[str] = JET_FILES,
        signal_class: int = 1,
        class_names: Sequence[str] = ("qcd", "top"),
    ) -> None:
        self.root = Path(root)
        self.files = list(files)
        self.signal_class = signal_class
        self.class_names = list(class_names)
        missing = [f for f in self.files if not (self.root / f).is_file()]
        if missing:
            raise FileNotFoundError(f"No jet files {missing} under {self.root.resolve()}")
        self._constituents: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._usable: list[np.ndarray] = []  # per row: finite and not empty
        self._offsets = [0]  # first sample of every file
        samples: list[JetSample] = []
        for name in self.files:
            with np.load(self.root / name, allow_pickle=False) as data:
                constituents = np.asarray(data["constituents"], dtype=np.float32)
                counts = np.asarray(data["n_constituents"], dtype=np.int64)
                labels = (
                    np.asarray(data["label"], dtype=np.int64)
                    if "label" in data.files
                    else np.full(len(counts), -1)
                )
            if constituents.ndim != 3 or constituents.shape[2] != 4:
                raise ValueError(
                    f"{name}: constituents must be (N, P, 4) px, py, pz, E, not {constituents.shape}"
                )
            self._constituents.append(constituents)
            self._counts.append(counts)
            # checked once for the whole file: read() then costs one lookup per jet
            slots = np.arange(constituents.shape[1])[None, :] < counts[:, None]
            broken = (~np.isfinite(constituents).all(axis=2) & slots).any(axis=1)
            self._usable.append(~broken & (counts > 0))
            samples += [
                JetSample(f"{name}:{row}", int(label), int(count))
                for row, (label, count) in enumerate(zip(labels, counts, strict=True))
            ]
            self._offsets.append(self._offsets[-1] + len(counts))
        self.samples = samples
        self._index = {s.id: i for i, s in enumerate(samples)}

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.samples]

    @property
    def targets(self) -> np.ndarray:
        """Class of every sample ``(N,)`` int64 (``-1``: unknown)."""
        return np.array([s.target for s in self.samples], dtype=np.int64)

    def index(self, sample_id: str) -> int:
        """Position of the sample with id ``file:row``."""
        return self._index[sample_id]

    def _locate(self, i: int) -> tuple[int, int]:
        f = bisect.bisect_right(self._offsets, i) - 1  # a list: ~30x cheaper than numpy here
        return f, i - self._offsets[f]

    def read(self, i: int) -> np.ndarray:
        """Constituents ``(n, 4)`` float32 (px, py, pz, E) of sample ``i``, trimmed to its
        ``n_constituents``.

        Raises:
            BadJetError: one line naming the jet: no constituents, or NaN / inf.
        """
        f, row = self._locate(i)
        count = int(self._counts[f][row])
        particles = self._constituents[f][row, :count]
        if not self._usable[f][row]:
            problem = jet_problem(particles)
            raise BadJetError(f"{self.samples[i].id}: {problem}")
        return particles

    def feature_statistics(
        self, indices: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std ``(F,)`` of the particle features (:mod:`ssl_core.points.features`)
        of the usable jets at ``indices`` (the training split; default: all), for
        :func:`~ssl_core.points.features.normalize_points`."""
        from ssl_core.points.features import jet_feature_statistics  # features imports us

        indices = range(len(self)) if indices is None else indices
        return jet_feature_statistics([self.read(i) for i in indices if self.usable(i)])

    def usable(self, i: int) -> bool:
        """Whether sample ``i`` reads without :class:`BadJetError`."""
        f, row = self._locate(i)
        return bool(self._usable[f][row])

    def bad_samples(self) -> dict[str, str]:
        """``{id: problem}`` of every unusable jet (checked on all rows at once)."""
        bad: dict[str, str] = {}
        for f, usable in enumerate(self._usable):
            for row in np.flatnonzero(~usable):
                i = self._offsets[f] + int(row)
                count = max(int(self._counts[f][row]), 0)
                bad[self.samples[i].id] = jet_problem(self._constituents[f][row, :count])
        return bad


def jet_problem(particles: np.ndarray) -> str:
    """What makes a jet's constituents ``(n, 4)`` unusable, or ``""``."""
    if len(particles) == 0:
        return "empty jet (no constituents)"
    finite = np.isfinite(particles)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        return f"NaN or inf in constituent(s) {rows[:5].tolist()} of {len(particles)}"
    return ""


def jet_test_split(
    source: JetSource, fraction: float = 0.2, seed: int = 0
) -> tuple[list[str], list[str]]:
    """A fixed, seeded test split: ``(train ids, test ids)``, ``fraction`` of every class
    in test (stratified, so both keep the classes' proportions).

    Depends only on the ids, classes and ``seed`` (each class's ids sorted, then
    permuted by ``numpy.random.default_rng(seed)``), not on the order files were listed.
    """
    rng = np.random.default_rng(seed)
    ids, targets = np.array(source.ids), source.targets
    test: list[str] = []
    for c in np.unique(targets):
        members = np.sort(ids[targets == c])
        take = int(round(fraction * len(members)))
        test += members[rng.permutation(len(members))[:take]].tolist()
    chosen = set(test)
    return [i for i in source.ids if i not in chosen], sorted(test, key=source.index)


# ------------------------------------------------------------------------- kinematics
def to_pt_eta_phi_m(p4: np.ndarray) -> np.ndarray:
    """Four-momenta ``(..., 4)`` px, py, pz, E -> ``(..., 4)`` pT, eta, phi, m.

    Padding (all zero) gives zeros. Masses from ``E^2 - p^2`` (clipped at 0: float32
    rounding of light particles' ``E^2 - p^2`` can go slightly negative).
    """
    p4 = np.asarray(p4, dtype=np.float64)
    px, py, pz, e = np.moveaxis(p4, -1, 0)
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(
            pt > 0, np.arcsinh(np.divide(pz, pt, where=pt > 0, out=np.zeros_like(pt))), 0
        )
    phi = np.arctan2(py, px)
    m = np.sqrt(np.clip(e * e - px * px - py * py - pz * pz, 0.0, None))
    return np.stack([pt, eta, phi, m], axis=-1).astype(np.float32)


def to_p4(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``pT, eta, phi, m`` (same shapes) -> four-momenta ``(..., 4)`` px, py, pz, E."""
    pz = pt * np.sinh(eta)
    e = np.sqrt(m * m + pt * pt + pz * pz)
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, e], axis=-1)


def wrap_phi(phi: np.ndarray) -> np.ndarray:
    """Angles to ``[-pi, pi)``."""
    return (phi + np.pi) % (2 * np.pi) - np.pi


def jet_p4(p4: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The jet's four-momentum ``(B, 4)``: the sum of its constituents' ``(B, P, 4)``
    (the E-scheme of anti-kT's recombination), padding (``mask`` False) left out."""
    p4 = np.asarray(p4, dtype=np.float64)
    if mask is not None:
        p4 = p4 * mask[..., None]
    return p4.sum(axis=-2)


def jet_pt_mass(p4: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Jet pT and invariant mass ``(B,)`` of constituents ``(B, P, 4)``."""
    j = jet_p4(p4, mask)
    return np.hypot(j[:, 0], j[:, 1]), np.sqrt(
        np.clip(j[:, 3] ** 2 - (j[:, :3] ** 2).sum(1), 0, None)
    )
