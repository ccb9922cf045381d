"""Per-particle input features of a padded batch of jets, and their normalization.

A batch of jets is held as :class:`Jets`: each particle's pT, eta, phi and mass
``(B, P)`` with a padding ``mask`` ``(B, P)`` and the jet axis it is measured from. The
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

Normalization (per feature, from statistics of the training jets, like an image's
per-channel mean and std) is applied on the device by :func:`normalize_points`.

- [0] Qu, Li, Qian, Particle Transformer for Jet Tagging, ICML 2022,
  https://arxiv.org/abs/2202.03772 (and weaver-core's top-tagging data configs)
- [1] Dillon et al., Symmetries, safety, and self-supervision (JetCLR), SciPost Phys.
  12, 188 (2022), https://arxiv.org/abs/2108.04253
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ssl_core.points.jets import to_pt_eta_phi_m, wrap_phi

FEATURES = ("deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "delta_r")
NUM_FEATURES = len(FEATURES)
POINTS_KEYS = ("image", "views")  # batch fields whose entries are {"points", "mask"}


@dataclass
class Jets:
    """A padded batch of jets in collider coordinates.

    Attributes:
        pt: Transverse momenta ``(B, P)`` float32, GeV (0 in padding).
        eta: Pseudorapidities ``(B, P)``.
        phi: Azimuths ``(B, P)`` in ``[-pi, pi)``.
        m: Particle masses ``(B, P)``, GeV.
        mask: ``(B, P)`` bool, True for real particles.
        axis: ``(B, 2)`` eta and phi of the axis the features are measured from.
    """

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    m: np.ndarray
    mask: np.ndarray
    axis: np.ndarray

    @classmethod
    def from_p4(cls, p4: np.ndarray, mask: np.ndarray) -> Jets:
        """From four-momenta ``(B, P, 4)`` (px, py, pz, E) and their ``mask`` ``(B, P)``;
        the axis is the direction of the constituents' sum."""
        mask = np.asarray(mask, dtype=bool)
        kin = to_pt_eta_phi_m(np.where(mask[..., None], p4, 0.0))
        total = (np.asarray(p4, np.float64) * mask[..., None]).sum(axis=1)
        axis = to_pt_eta_phi_m(total)[:, 1:3]
        pt, eta, phi, m = (kin[..., i] for i in range(4))
        return cls(pt, eta, phi, m, mask, axis.astype(np.float32))

    def replace(self, **fields: np.ndarray) -> Jets:
        """A copy with some fields replaced (arrays are never modified in place)."""
        return replace(self, **fields)

    @property
    def counts(self) -> np.ndarray:
        """Number of particles of every jet ``(B,)``."""
        return self.mask.sum(axis=1)

    def p4(self) -> np.ndarray:
        """Four-momenta ``(B, P, 4)`` float64 px, py, pz, E (zeros in padding)."""
        pt = np.where(self.mask, self.pt, 0.0).astype(np.float64)
        pz = pt * np.sinh(self.eta)
        e = np.sqrt(self.m.astype(np.float64) ** 2 * self.mask + pt**2 + pz**2)
        return np.stack([pt * np.cos(self.phi), pt * np.sin(self.phi), pz, e], axis=-1)

    def deta_dphi(self) -> tuple[np.ndarray, np.ndarray]:
        """Position of every particle relative to the axis ``(B, P)`` each."""
        deta = self.eta - self.axis[:, :1]
        dphi = wrap_phi(self.phi - self.axis[:, 1:])
        return deta, dphi

    def trim(self) -> Jets:
        """Padding slots beyond the longest jet dropped (real particles come first)."""
        width = max(int(self.counts.max(initial=0)), 1)
        if width == self.mask.shape[1]:
            return self
        return Jets(
            self.pt[:, :width],
            self.eta[:, :width],
            self.phi[:, :width],
            self.m[:, :width],
            self.mask[:, :width],
            self.axis,
        )


def particle_features(jets: Jets) -> np.ndarray:
    """The features of :data:`FEATURES` ``(B, P, 7)`` float32, zeros in padding."""
    mask = jets.mask
    pt = np.where(mask, jets.pt, 1.0).astype(np.float32)
    m = np.where(mask, jets.m, 0.0).astype(np.float32)
    pz = pt * np.sinh(jets.eta)
    e = np.sqrt(m * m + pt * pt + pz * pz)
    px, py = pt * np.cos(jets.phi), pt * np.sin(jets.phi)
    jet = np.stack([(v * mask).sum(axis=1) for v in (px, py, pz, e)], axis=1)  # (B, 4)
    pt_jet = np.hypot(jet[:, 0], jet[:, 1])[:, None]
    e_jet = jet[:, 3:4]
    deta, dphi = jets.deta_dphi()
    log_pt, log_e = np.log(pt), np.log(e)
    out = np.stack(
        [
            deta,
            dphi,
            log_pt,
            log_e,
            log_pt - np.log(pt_jet),
            log_e - np.log(e_jet),
            np.hypot(deta, dphi),
        ],
        axis=-1,
    ).astype(np.float32)
    out *= mask[..., None]
    return out


def feature_statistics(features: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation ``(F,)`` of features ``(B, P, F)`` over real
    particles (``mask`` ``(B, P)``): what :func:`normalize_points` takes. Measure them on
    training jets without augmentation (as image means on training images)."""
    values = np.asarray(features, np.float64)[np.asarray(mask, bool)]
    std = values.std(axis=0)
    return values.mean(axis=0).astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)


def normalize_points(batch: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
    """``(points - mean) / std`` per feature on every ``{"points", "mask"}`` of a batch
    (in ``image``, ``views``, and inside ``labeled``/``unlabeled`` parts); padding stays 0.

    Meant for ``on_after_batch_transfer`` (on the device), as images' ``normalize_batch``.

    Args:
        batch: A collated batch, or one ``{"points": (B, P, F), "mask": (B, P)}``.
        mean: ``(F,)`` tensor.
        std: ``(F,)`` tensor.
    """
    if isinstance(batch, list | tuple):
        return type(batch)(normalize_points(v, mean, std) for v in batch)
    if not isinstance(batch, dict):
        return batch
    if "points" in batch and "mask" in batch:
        x, mask = batch["points"], batch["mask"]
        m, s = mean.to(x.device, x.dtype), std.to(x.device, x.dtype)
        return {**batch, "points": (x - m) / s * mask.unsqueeze(-1)}
    return {
        k: normalize_points(v, mean, std) if k in POINTS_KEYS or isinstance(v, dict) else v
        for k, v in batch.items()
    }
