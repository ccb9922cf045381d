"""Per-particle input features of a padded batch of jets, and their normalization.

A batch of jets is held as :class:`Jets`: its particles packed jet after jet (the
augmentations and features cost no work on padding), each particle's pT, position
relative to its jet's axis and mass, padded only at the end (:meth:`Jets.pad`). The
network sees, per particle, the features of Particle Transformer's top-tagging inputs
(weaver-core's ``part_*`` features, without particle ids and track parameters, which
these jets do not have):

=====  ===========================  ===========================================
index  name                         definition
=====  ===========================  ===========================================
0      ``deta``                     eta - eta_axis
1      ``dphi``                     phi - phi_axis, wrapped to [-pi, pi)
2      ``log_pt``                   log pT (GeV)
3      ``log_e``                    log E (GeV)
4      ``log_pt_rel``               log(pT / pT_jet)
5      ``log_e_rel``                log(E / E_jet)
6      ``delta_r``                  sqrt(deta^2 + dphi^2)
=====  ===========================  ===========================================

The axis is the one of the jet as read (the sum of its constituents), kept through the
augmentations, as in JetCLR, where jets are centred before they are rotated and
translated: a translation moves the jet away from the origin the network sees. ``pT_jet``
and ``E_jet`` are those of the (augmented) constituents' sum. Padding slots hold zeros.
Computed in float32 (but for masses from ``E^2 - p^2``, in float64).

Normalization (per feature, from statistics of the training jets, like an image's
per-channel mean and std) is applied on the device by
:class:`~ssl_core.points.modality.Points`.

Backbones that need the particles' four-momenta themselves (the Particle Transformer's
pairwise interaction features, [0] Eq. 3) get them from :func:`particle_vectors`, as a
view's ``vectors`` entry ``(B, P, 4)`` (px, py, pz, E in the lab frame, zeros in padding;
weaver-core's ``pf_vectors``), when the modality is asked for them
(``Points(vectors=True)``); normalization leaves them as they are.

- [0] Qu, Li, Qian, Particle Transformer for Jet Tagging, ICML 2022,
  https://arxiv.org/abs/2202.03772 (and weaver-core's top-tagging data configs)
- [1] Dillon et al., Symmetries, safety, and self-supervision (JetCLR), SciPost Phys.
  12, 188 (2022), https://arxiv.org/abs/2108.04253
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ssl_core.data.modality import mean_std

FEATURES = ("deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "delta_r")
NUM_FEATURES = len(FEATURES)


def _wrap(phi: np.ndarray) -> np.ndarray:
    """Angles within ``3 pi`` of 0 to ``[-pi, pi)`` (cheaper than a float modulo)."""
    two_pi = np.float32(2 * np.pi)
    phi = np.where(phi >= np.pi, phi - two_pi, phi)
    return np.where(phi < -np.pi, phi + two_pi, phi)


@dataclass
class Jets:
    """A batch of jets, their particles packed jet after jet (no padding), each in the
    coordinates of its jet's axis.

    Attributes:
        pt: Transverse momenta ``(N,)`` float32, GeV, > 0.
        deta: eta - eta_axis ``(N,)``.
        dphi: phi - phi_axis ``(N,)`` (near the axis: not wrapped after augmentation).
        m: Particle masses ``(N,)``, GeV.
        counts: Particles of every jet ``(B,)`` int64, each >= 1.
        axis: ``(B, 2)`` float32 eta and phi of the jet axis as read (the sum of the
            constituents): the origin the network sees, kept through augmentations.
    """

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
        return cls.from_packed(p4, counts)

    @classmethod
    def from_p4(cls, p4: np.ndarray, mask: np.ndarray) -> Jets:
        """From padded four-momenta ``(B, P, 4)`` and their ``mask`` ``(B, P)`` (real
        particles first in every row)."""
        mask = np.asarray(mask, dtype=bool)
        return cls.from_packed(np.asarray(p4, np.float32)[mask], mask.sum(axis=1))

    @classmethod
    def from_packed(cls, p4: np.ndarray, counts: np.ndarray) -> Jets:
        """From packed four-momenta ``(N, 4)`` float32 and the jets' ``counts`` ``(B,)``."""
        px, py, pz, _ = np.ascontiguousarray(p4.T)  # contiguous rows: numpy's SIMD loops
        pt = np.sqrt(px * px + py * py)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        total = np.add.reduceat(p4, starts, axis=0, dtype=np.float64)  # (B, 4)
        pt_jet = np.sqrt(total[:, 0] ** 2 + total[:, 1] ** 2)
        axis = np.stack(
            [np.arcsinh(total[:, 2] / pt_jet), np.arctan2(total[:, 1], total[:, 0])], axis=1
        ).astype(np.float32)
        jet = np.repeat(np.arange(len(counts)), counts)
        p64 = p4.astype(np.float64)  # E^2 - p^2 of light particles needs float64
        m2 = p64[:, 3] ** 2 - p64[:, 0] ** 2 - p64[:, 1] ** 2 - p64[:, 2] ** 2
        slot = np.arange(len(jet)) - starts[jet]
        return cls(
            pt,
            np.arcsinh(pz / pt) - axis[jet, 0],
            _wrap(np.arctan2(py, px) - axis[jet, 1]),
            np.sqrt(np.maximum(m2, 0.0)).astype(np.float32),
            np.asarray(counts, np.int64),
            axis,
            (starts, jet, slot),
        )

    def replace(self, **fields: np.ndarray) -> Jets:
        """A copy with some particle fields replaced (same counts; arrays are never
        modified in place)."""
        return replace(self, **fields)

    @property
    def index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts (B,), jet (N,), slot (N,))``: where every jet starts, and every
        particle's jet and position in it."""
        if self._index is None:
            starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
            jet = np.repeat(np.arange(len(self.counts)), self.counts)
            slot = np.arange(len(jet)) - starts[jet]
            self._index = (starts, jet, slot)
        return self._index

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Per-jet sums ``(B, ...)`` of a particle quantity ``(N, ...)``."""
        return np.add.reduceat(x, self.index[0], axis=0)

    def energy(self) -> np.ndarray:
        """Particle energies ``(N,)`` float32."""
        pz = self.pt * np.sinh(self.deta + self.axis[self.index[1], 0])
        return np.sqrt(self.m * self.m + self.pt * self.pt + pz * pz)

    def p4(self) -> np.ndarray:
        """Four-momenta ``(N, 4)`` float64 px, py, pz, E in the lab frame."""
        jet = self.index[1]
        pt = self.pt.astype(np.float64)
        eta = self.deta + self.axis[jet, 0].astype(np.float64)
        phi = self.dphi + self.axis[jet, 1].astype(np.float64)
        pz = pt * np.sinh(eta)
        e = np.sqrt(self.m.astype(np.float64) ** 2 + pt**2 + pz**2)
        return np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, e], axis=1)

    def jet_p4(self) -> np.ndarray:
        """Every jet's four-momentum ``(B, 4)`` float64, the sum of its particles'."""
        return self.sum(self.p4())

    def pad(self, x: np.ndarray, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A particle quantity ``(N, ...)`` padded to ``(B, P, ...)`` with zeros, and
        the mask ``(B, P)``; ``P`` is the longest jet's length, or ``width``.

        Raises:
            ValueError: a jet longer than ``width`` (its particles would land in the
                next jet's row).
        """
        longest = int(self.counts.max()) if len(self.counts) else 0
        if width is not None and longest > width:
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
    e = jets.energy()
    px, py = jets.pt * np.cos(jets.dphi), jets.pt * np.sin(jets.dphi)  # axis frame
    sums = jets.sum(np.stack([px, py, e], axis=1))  # (B, 3): pT_jet is frame-independent
    jet = jets.index[1]
    log_pt_jet = np.log(np.sqrt(sums[:, 0] ** 2 + sums[:, 1] ** 2))[jet]
    log_e_jet = np.log(sums[:, 2])[jet]
    log_pt, log_e = np.log(jets.pt), np.log(e)
    out = np.empty((len(e), NUM_FEATURES), np.float32)
    out[:, 0], out[:, 1] = jets.deta, jets.dphi
    out[:, 2], out[:, 3] = log_pt, log_e
    out[:, 4], out[:, 5] = log_pt - log_pt_jet, log_e - log_e_jet
    out[:, 6] = np.sqrt(jets.deta * jets.deta + jets.dphi * jets.dphi)
    return out


def particle_vectors(jets: Jets) -> np.ndarray:
    """Four-momenta ``(N, 4)`` float32 (px, py, pz, E, GeV, lab frame) of every particle,
    as augmented: what the Particle Transformer's pairwise features are computed from
    (the features above are derived, and normalized before a backbone sees them)."""
    return jets.p4().astype(np.float32)


def jet_feature_statistics(
    jets: list[np.ndarray], batch: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std ``(F,)`` float32 of the features of ``jets`` (``[(n_i,
    4)]`` four-momenta) as read, no augmentation: measure them on the training jets (as
    image means on training images) and normalize on the device
    (:class:`~ssl_core.points.modality.Points`)."""
    features = (
        particle_features(Jets.from_list(jets[i : i + batch])) for i in range(0, len(jets), batch)
    )
    mean, std = mean_std(features)
    return mean.astype(np.float32), std.astype(np.float32)
