"""JetCLR's augmentations of particle jets, vectorised over a padded batch.

Each augmentation is a small callable ``op(jets, rand) -> jets`` on a :class:`Jets`
batch; ``rand`` is the batch's :class:`~ssl_core.points.random.SampleRandom`, so every
jet draws from its own seed and gets the same view whatever batch it is in. A view
(:class:`JetView`) is a list of them followed by the features of
:mod:`ssl_core.points.features`; :class:`JetCLRTransform` makes two views (contrastive
methods), :class:`JetWeakStrongTransform` weak and strong ones (FixMatch, Mean Teacher,
Pseudo-Label), :class:`JetEvalTransform` none (evaluation).

What each keeps (checked in ``tests/test_points_augment.py``):

- :class:`Rotate` (about the jet axis in the eta-phi plane): the jet's pT and mass only
  for small angles (eta-phi is a Euclidean plane near the axis: mass^2 ~ sum pT_i pT_j
  dR_ij^2); JetCLR rotates by any angle, the symmetry of a jet image, not of the jet.
- :class:`Translate` (all particles shifted in rapidity and phi): pT and mass exactly
  (a boost along the beam and a rotation about it).
- :class:`CollinearSplit` (a particle's four-momentum p split into r p and (1 - r) p,
  same direction): the jet's four-momentum exactly (IR/C safety).
- :class:`SoftSmear` (each particle moved in eta and phi by a Gaussian of width
  ``strength / max(pT, pt_clip)``): hard particles barely move, so IR-safe observables
  of the jet nearly keep their values.
- :class:`SmearPt` (pT times ``exp(sigma N(0, 1))``) and :class:`Dropout` (particles
  removed; never the first slot, so no jet becomes empty) keep nothing exactly: they
  are the strong view's noise.

- [0] Dillon, Kasieczka, Olischlaeger, Plehn, Sorrenson, Vogel, Symmetries, safety, and
  self-supervision, SciPost Phys. 12, 188 (2022), https://arxiv.org/abs/2108.04253
  (JetCLR; its public code augments ``(B, 3, P)`` arrays of pT, eta, phi: rotate,
  collinear fill, distort, translate, in that order)
- [1] Sohn et al., FixMatch, NeurIPS 2020, https://arxiv.org/abs/2001.07685
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ssl_core.points.features import Jets, particle_features
from ssl_core.points.jets import wrap_phi
from ssl_core.points.random import SampleRandom, derive_seeds

# Every op draws from its own streams, so adding or removing an op leaves the others'
# numbers as they were.
_STREAM_ROTATE, _STREAM_TRANSLATE, _STREAM_SOFT = 1, 2, 3
_STREAM_SPLIT, _STREAM_PT, _STREAM_DROP = 5, 7, 8


class Rotate:
    """Rotate every jet about its axis in the eta-phi plane by an angle drawn uniformly
    in ``[-max_angle, max_angle]`` (JetCLR: any angle, ``max_angle = pi``)."""

    def __init__(self, max_angle: float = np.pi) -> None:
        self.max_angle = max_angle

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        theta = (2.0 * rand.uniform(_STREAM_ROTATE, 1) - 1.0) * self.max_angle  # (B, 1)
        c, s = np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)
        deta, dphi = jets.deta_dphi()
        eta = jets.axis[:, :1] + c * deta - s * dphi
        phi = wrap_phi(jets.axis[:, 1:] + s * deta + c * dphi)
        return jets.replace(eta=eta * jets.mask, phi=phi * jets.mask)


class Translate:
    """Shift every particle of a jet by one ``(d_y, d_phi)``, each uniform in
    ``[-width, width]`` times the jet's extent (max - min over its particles) in eta and
    in phi, as JetCLR's ``translate_jets`` (whose default width is 1.0; smaller here by
    default: small translations, the jet stays near the axis).

    The shift is in rapidity ``y``, not pseudorapidity: a boost along the beam, so the
    jet's mass and pT are kept exactly. (JetCLR's particles are massless, where the two
    are one; ours have pion and kaon masses, and an eta shift of 0.4 changed jet masses
    by up to 6% on the shared top/QCD jets.)
    """

    def __init__(self, width: float = 0.25) -> None:
        self.width = width

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        deta, dphi = jets.deta_dphi()
        u = 2.0 * rand.uniform(_STREAM_TRANSLATE, 2) - 1.0  # (B, 2)
        extent = [
            np.where(jets.mask, x, -np.inf).max(1) - np.where(jets.mask, x, np.inf).min(1)
            for x in (deta, dphi)
        ]
        shift = u * self.width * np.stack(extent, axis=1)
        pt = np.where(jets.mask, jets.pt, 1.0).astype(np.float64)
        mt = np.hypot(pt, jets.m)
        y = np.arcsinh(pt * np.sinh(jets.eta.astype(np.float64)) / mt) + shift[:, :1]
        eta = np.arcsinh(mt * np.sinh(y) / pt).astype(np.float32)
        phi = wrap_phi(jets.phi + shift[:, 1:].astype(np.float32))
        return jets.replace(eta=eta * jets.mask, phi=phi * jets.mask)


class SoftSmear:
    """JetCLR's ``distort_jets``: move each particle in eta and in phi by a Gaussian of
    width ``strength / max(pT, pt_clip)`` (pT in GeV): soft particles move most."""

    def __init__(self, strength: float = 0.1, pt_clip: float = 0.1) -> None:
        self.strength = strength
        self.pt_clip = pt_clip

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        p = jets.pt.shape[1]
        width = (self.strength / np.maximum(jets.pt, self.pt_clip)) * jets.mask
        eta = jets.eta + (width * rand.normal(_STREAM_SOFT, p)).astype(np.float32)
        phi = wrap_phi(jets.phi + (width * rand.normal(_STREAM_SOFT + 1, p)).astype(np.float32))
        return jets.replace(eta=eta * jets.mask, phi=phi * jets.mask)


class CollinearSplit:
    """Split particles collinearly: each real particle with probability ``prob``, its
    four-momentum ``p`` into ``r p`` and ``(1 - r) p`` with ``r ~ U(0, 1)`` (pT and mass
    scaled by ``r``, direction kept); the new particles go into padding slots after the
    jet's last one. With ``max_particles`` a jet splits at most ``max_particles - n``
    particles (the first ones drawn, by slot).

    JetCLR's ``collinear_fill_jets`` splits as many particles as there are free slots up
    to its fixed 50; here the number is random (``prob``) so that a jet's size does not
    double, and the cap is the collation's (a departure).
    """

    def __init__(self, prob: float = 0.3, max_particles: int | None = None) -> None:
        self.prob = prob
        self.max_particles = max_particles

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        b, p = jets.mask.shape
        counts = jets.counts
        split = jets.mask & (rand.uniform(_STREAM_SPLIT, p) < self.prob)
        rank = np.cumsum(split, axis=1) - 1
        if self.max_particles is not None:
            split &= rank < (self.max_particles - counts)[:, None]
        n_split = split.sum(axis=1)
        width = max(int((counts + n_split).max(initial=0)), p)
        # r in (0, 1) away from the ends: r p and (1 - r) p both real particles in float32
        r = np.clip(rand.uniform(_STREAM_SPLIT + 1, p), 1e-6, 1 - 1e-6).astype(np.float32)
        keep = np.where(split, r, np.float32(1.0))
        rows, cols = np.nonzero(split)
        dest = counts[rows] + rank[rows, cols]
        out = {}
        for name, scale in (("pt", True), ("m", True), ("eta", False), ("phi", False)):
            value = getattr(jets, name)
            new = np.zeros((b, width), np.float32)
            new[:, :p] = value * keep if scale else value
            new[rows, dest] = (
                value[rows, cols] * (1 - r[rows, cols]) if scale else value[rows, cols]
            )
            out[name] = new
        mask = np.zeros((b, width), bool)
        mask[:, :p] = jets.mask
        mask[rows, dest] = True
        return Jets(out["pt"], out["eta"], out["phi"], out["m"], mask, jets.axis)


class SmearPt:
    """Multiply each particle's pT (and mass: the direction is kept) by
    ``exp(sigma N(0, 1))``, a detector-like energy resolution (not in JetCLR)."""

    def __init__(self, sigma: float = 0.1) -> None:
        self.sigma = sigma

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        factor = np.exp(self.sigma * rand.normal(_STREAM_PT, jets.pt.shape[1])).astype(np.float32)
        return jets.replace(pt=jets.pt * factor * jets.mask, m=jets.m * factor * jets.mask)


class Dropout:
    """Remove each particle with probability ``prob`` (never the first slot, the
    leading particle of pT-sorted jets, so no jet is emptied); the rest move forward so
    that real particles still come first."""

    def __init__(self, prob: float = 0.1) -> None:
        self.prob = prob

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        p = jets.pt.shape[1]
        drop = rand.uniform(_STREAM_DROP, p) < self.prob
        drop[:, 0] = False
        keep = jets.mask & ~drop
        order = np.argsort(~keep, axis=1, kind="stable")  # kept particles first, in order
        take = lambda x: np.take_along_axis(x, order, axis=1)  # noqa: E731
        mask = take(keep)
        return Jets(
            take(jets.pt) * mask,
            take(jets.eta) * mask,
            take(jets.phi) * mask,
            take(jets.m) * mask,
            mask,
            jets.axis,
        ).trim()


Op = Rotate | Translate | SoftSmear | CollinearSplit | SmearPt | Dropout


class JetView:
    """One view of a batch of jets: ``ops`` in order, then the features.

    Args:
        ops: Augmentations (empty: the jets as they are).
    """

    def __init__(self, ops: Sequence[Op] = ()) -> None:
        self.ops = list(ops)

    def augment(self, jets: Jets, seeds: np.ndarray) -> Jets:
        """The augmented jets, each drawn from its own seed in ``seeds`` ``(B,)``."""
        rand = SampleRandom(seeds)
        for op in self.ops:
            jets = op(jets, rand)
        return jets

    def __call__(self, jets: Jets, seeds: np.ndarray) -> dict[str, torch.Tensor]:
        """``{"points": (B, P, F) float32, "mask": (B, P) bool}`` of ``jets``."""
        jets = self.augment(jets, seeds).trim()
        return {
            "points": torch.from_numpy(particle_features(jets)),
            "mask": torch.from_numpy(np.ascontiguousarray(jets.mask)),
        }


class JetTransform:
    """Several views of a padded batch of jets, or one (:attr:`single`).

    Called by :class:`ssl_core.points.collate.JetCollate` with the batch's four-momenta
    ``(B, P, 4)``, their mask ``(B, P)`` and one seed per jet ``(B,)``; returns a list of
    views (field ``views``) or, when ``single``, one view (field ``image``). View ``v``
    of a jet with seed ``k`` draws from seed ``derive_seeds(k, v)``.
    """

    def __init__(self, views: Sequence[JetView], single: bool = False) -> None:
        if single and len(views) != 1:
            raise ValueError("single=True takes exactly one view")
        self.views = list(views)
        self.single = single

    def __call__(
        self, p4: np.ndarray, mask: np.ndarray, seeds: np.ndarray
    ) -> dict[str, torch.Tensor] | list[dict[str, torch.Tensor]]:
        jets = Jets.from_p4(p4, mask)
        seeds = np.asarray(seeds, dtype=np.int64).astype(np.uint64)
        out = [view(jets, derive_seeds(seeds, v)) for v, view in enumerate(self.views)]
        return out[0] if self.single else out


def jetclr_ops(
    rotate: bool = True,
    max_angle: float = np.pi,
    translate: float = 0.25,
    soft_strength: float = 0.1,
    pt_clip: float = 0.1,
    split_prob: float = 0.3,
    pt_smear: float = 0.0,
    dropout: float = 0.0,
    max_particles: int | None = None,
) -> list[Op]:
    """JetCLR's order: rotation, collinear splitting, soft smearing, translation; then
    pT smearing and dropout when asked for (not in JetCLR). A zero turns an op off."""
    ops: list[Op] = [Rotate(max_angle)] if rotate else []
    if split_prob > 0:
        ops.append(CollinearSplit(split_prob, max_particles))
    if soft_strength > 0:
        ops.append(SoftSmear(soft_strength, pt_clip))
    if translate > 0:
        ops.append(Translate(translate))
    if pt_smear > 0:
        ops.append(SmearPt(pt_smear))
    if dropout > 0:
        ops.append(Dropout(dropout))
    return ops


class JetCLRTransform(JetTransform):
    """``views`` JetCLR views of every jet (SimCLR, SupCon, ...); arguments as
    :func:`jetclr_ops`. Defaults: JetCLR's four augmentations (rotations, collinear
    splittings, soft smearing, translations)."""

    def __init__(self, views: int = 2, **ops) -> None:
        super().__init__([JetView(jetclr_ops(**ops)) for _ in range(views)])


class JetWeakStrongTransform(JetTransform):
    """``weak_views`` weak views, then ``strong_views`` strong ones (FixMatch: 1 + 1;
    Mean Teacher: 2 + 0; supervised and Pseudo-Label: 1 + 0).

    Weak: the symmetries alone (rotation, small translation), as FixMatch's weak view is
    flip and shift. Strong: JetCLR's four augmentations plus pT smearing and particle
    dropout.
    """

    def __init__(
        self,
        weak_views: int = 1,
        strong_views: int = 1,
        translate: float = 0.25,
        soft_strength: float = 0.1,
        split_prob: float = 0.3,
        pt_smear: float = 0.1,
        dropout: float = 0.1,
        max_particles: int | None = None,
    ) -> None:
        weak = jetclr_ops(
            translate=translate, soft_strength=0.0, split_prob=0.0, max_particles=max_particles
        )
        strong = jetclr_ops(
            translate=translate,
            soft_strength=soft_strength,
            split_prob=split_prob,
            pt_smear=pt_smear,
            dropout=dropout,
            max_particles=max_particles,
        )
        super().__init__(
            [JetView(weak) for _ in range(weak_views)]
            + [JetView(strong) for _ in range(strong_views)]
        )


class JetEvalTransform(JetTransform):
    """The jets as they are (evaluation, embeddings): one view, field ``image``."""

    def __init__(self) -> None:
        super().__init__([JetView()], single=True)
