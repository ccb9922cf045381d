"""Per-particle input features of a batch of jets, Particle Transformer's top-tagging
inputs [0] (details: docs/jets.md, "Inside ssl_core.points").

- [0] Qu, Li, Qian, Particle Transformer for Jet Tagging, ICML 2022,
  https://arxiv.org/abs/2202.03772 (and weaver-core's top-tagging data configs)
- [1] Dillon et al., Symmetries, safety, and self-supervision (JetCLR), SciPost Phys.
  12, 188 (2022), https://arxiv.org/abs/2108.04253
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ssl_core.data.modality import mean_std

FEATURES = ("deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "delta_r")
NUM_FEATURES = len(FEATURES)


def _wrap(phi: np.ndarray) -> np.ndarray:
    """Angles within ``3 pi`` of 0 to ``[-pi, pi)`` (cheaper than a float modulo)."""
    two_pi = np.float32(2 * np.pi)
    phi = np.where(phi >= np.pi, phi - two_pi, phi)
    return np.where(phi < -np.pi, phi + two_pi, phi)


def to_p4(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``pT, eta, phi, m`` (same shapes) -> four-momenta ``(..., 4)`` px, py, pz, E."""
    pz = pt * np.sinh(eta)
    e = np.sqrt(m * m + pt * pt + pz * pz)
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, e], axis=-1)


def packed_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts (B,), jet (N,), slot (N,))`` of jets of ``counts`` particles packed."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    jet = np.repeat(np.arange(len(counts)), counts)
    return starts, jet, np.arange(len(jet)) - starts[jet]


@dataclass
class Jets:
    """A batch of jets, their particles packed jet after jet (no padding): pT, eta -
    eta_axis, phi - phi_axis (not wrapped after augmentation) and mass ``(N,)`` float32
    (GeV), the ``counts`` ``(B,)`` (each >= 1) and the ``axis`` ``(B, 2)`` (eta, phi of the
    constituents' sum as read, kept through augmentations)."""

    pt: np.ndarray
    deta: np.ndarray
    dphi: np.ndarray
    m: np.ndarray
    counts: np.ndarray
    axis: np.ndarray
    _index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def from_list(cls, jets: list[np.ndarray]) -> Jets:
        """From four-momenta ``[(n_i, 4)]`` (px, py, pz, E, every ``n_i >= 1``)."""
        counts = np.array([len(j) for j in jets], dtype=np.int64)
        if (counts < 1).any():
            raise ValueError("every jet needs a particle (empty jets are bad samples)")
        p4 = np.concatenate(jets).astype(np.float32, copy=False)
        px, py, pz, _ = np.ascontiguousarray(p4.T)  # contiguous rows: numpy's SIMD loops
        pt = np.sqrt(px * px + py * py)
        index = packed_index(counts)
        total = np.add.reduceat(p4, index[0], axis=0, dtype=np.float64)  # (B, 4)
        pt_jet = np.sqrt(total[:, 0] ** 2 + total[:, 1] ** 2)
        axis = np.stack(
            [np.arcsinh(total[:, 2] / pt_jet), np.arctan2(total[:, 1], total[:, 0])], axis=1
        ).astype(np.float32)
        jet = index[1]
        p64 = p4.astype(np.float64)  # E^2 - p^2 of light particles needs float64
        m2 = p64[:, 3] ** 2 - p64[:, 0] ** 2 - p64[:, 1] ** 2 - p64[:, 2] ** 2
        deta, dphi = np.arcsinh(pz / pt) - axis[jet, 0], _wrap(np.arctan2(py, px) - axis[jet, 1])
        m = np.sqrt(np.maximum(m2, 0.0)).astype(np.float32)
        return cls(pt, deta, dphi, m, counts, axis, index)

    @property
    def index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts (B,), jet (N,), slot (N,))``: where every jet starts, and every
        particle's jet and position in it."""
        if self._index is None:
            self._index = packed_index(self.counts)
        return self._index

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Per-jet sums ``(B, ...)`` of a particle quantity ``(N, ...)``."""
        return np.add.reduceat(x, self.index[0], axis=0)

    def pz_energy(self) -> tuple[np.ndarray, np.ndarray]:
        """Particle pz and energies ``(N,)`` float32 in the lab frame."""
        pz = self.pt * np.sinh(self.deta + self.axis[self.index[1], 0])
        return pz, np.sqrt(self.m * self.m + self.pt * self.pt + pz * pz)

    def p4(self) -> np.ndarray:
        """Four-momenta ``(N, 4)`` float64 px, py, pz, E in the lab frame."""
        jet = self.index[1]
        eta = self.deta + self.axis[jet, 0].astype(np.float64)
        phi = self.dphi + self.axis[jet, 1].astype(np.float64)
        return to_p4(self.pt.astype(np.float64), eta, phi, self.m.astype(np.float64))

    def pad(self, x: np.ndarray, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A particle quantity ``(N, ...)`` padded to ``(B, P, ...)`` with zeros, and
        the mask ``(B, P)``; ``P`` is the longest jet's length, or ``width``."""
        longest = int(self.counts.max()) if len(self.counts) else 0
        if width is not None and longest > width:  # it would spill into the next jet's row
            raise ValueError(f"a jet of {longest} particles does not fit a width of {width}")
        p = int(width if width is not None else longest)
        b = len(self.counts)
        _, jet, slot = self.index
        mask = np.arange(p)[None, :] < self.counts[:, None]
        out = np.zeros((b, p, *x.shape[1:]), x.dtype)
        # each particle's row of features as one opaque (void) item: numpy copies items
        # of a fancy index ~10x faster than rows of a 2-D one (0.08 against 1 ms here)
        rows = np.ascontiguousarray(x).reshape(len(x), -1)
        item = np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))
        out.reshape(b * p, -1).view(item)[jet * p + slot] = rows.view(item)
        return out, mask


def particle_features(jets: Jets) -> np.ndarray:
    """The features of :data:`FEATURES` of every particle ``(N, 7)`` float32."""
    _, e = jets.pz_energy()
    px, py = jets.pt * np.cos(jets.dphi), jets.pt * np.sin(jets.dphi)  # axis frame
    sums = jets.sum(np.stack([px, py, e], axis=1))  # (B, 3): pT_jet is frame-independent
    jet = jets.index[1]
    log_pt_jet = np.log(np.sqrt(sums[:, 0] ** 2 + sums[:, 1] ** 2))[jet]
    log_e_jet = np.log(sums[:, 2])[jet]
    log_pt, log_e = np.log(jets.pt), np.log(e)
    delta_r = np.sqrt(jets.deta * jets.deta + jets.dphi * jets.dphi)
    columns = [jets.deta, jets.dphi, log_pt, log_e, log_pt - log_pt_jet, log_e - log_e_jet, delta_r]
    return np.stack(columns, axis=1).astype(np.float32, copy=False)


def jet_feature_statistics(
    jets: list[np.ndarray], batch: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std ``(F,)`` float32 of the features of ``jets`` (``[(n_i,
    4)]`` four-momenta) as read, no augmentation."""
    features = (
        particle_features(Jets.from_list(jets[i : i + batch])) for i in range(0, len(jets), batch)
    )
    mean, std = mean_std(features)
    return mean.astype(np.float32), std.astype(np.float32)
