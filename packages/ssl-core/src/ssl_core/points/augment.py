"""JetCLR's augmentations of particle jets, vectorised over a batch (ops, views:
docs/jets.md, "Inside ssl_core.points").

- [0] Dillon, Kasieczka, Olischlaeger, Plehn, Sorrenson, Vogel, Symmetries, safety, and
  self-supervision (JetCLR), SciPost Phys. 12, 188 (2022), https://arxiv.org/abs/2108.04253
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from ssl_core.data.seeds import SampleRandom, as_words, derive
from ssl_core.data.views import Views
from ssl_core.points.features import Jets, packed_index, particle_features

# Every op draws from its own streams: adding or removing one leaves the others' numbers.
_STREAM_ROTATE, _STREAM_TRANSLATE, _STREAM_SOFT = 1, 2, 3
_STREAM_SPLIT, _STREAM_PT, _STREAM_DROP = 5, 7, 8


class Rotate:
    """Rotate every jet about its axis in the eta-phi plane by an angle drawn uniformly
    in ``[-max_angle, max_angle]`` (JetCLR: any angle, ``max_angle = pi``)."""

    def __init__(self, max_angle: float = np.pi) -> None:
        self.max_angle = max_angle

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        theta = (2.0 * rand.uniform(_STREAM_ROTATE, 1)[:, 0] - 1.0) * self.max_angle  # (B,)
        jet = jets.index[1]
        c, s = np.cos(theta).astype(np.float32)[jet], np.sin(theta).astype(np.float32)[jet]
        return replace(jets, deta=c * jets.deta - s * jets.dphi, dphi=s * jets.deta + c * jets.dphi)


class Translate:
    """Shift every particle of a jet by one ``(d_y, d_phi)``, each uniform in
    ``[-width, width]`` times the jet's extent in eta and in phi, as JetCLR's
    ``translate_jets`` (default width 1.0 there). The shift is in rapidity, not
    pseudorapidity (JetCLR's particles are massless, ours not): a boost along the beam,
    which keeps the jet's mass and pT exactly."""

    def __init__(self, width: float = 0.25) -> None:
        self.width = width

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        starts, jet, _ = jets.index
        u = 2.0 * rand.uniform(_STREAM_TRANSLATE, 2) - 1.0  # (B, 2)
        extent = [
            np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)
            for x in (jets.deta, jets.dphi)
        ]
        shift = (u * self.width * np.stack(extent, axis=1)).astype(np.float32)
        # boost along the beam by rapidity shift[:, 0]: (E, pz) -> (E ch + pz sh, pz ch + E sh)
        ch, sh = np.cosh(shift[:, 0])[jet], np.sinh(shift[:, 0])[jet]
        pz, e = jets.pz_energy()
        eta = np.arcsinh((pz * ch + e * sh) / jets.pt)
        return replace(jets, deta=eta - jets.axis[jet, 0], dphi=jets.dphi + shift[jet, 1])


class SoftSmear:
    """JetCLR's ``distort_jets``: move each particle in eta and in phi by a Gaussian of
    width ``strength / max(pT, pt_clip)`` (pT in GeV): soft particles move most."""

    def __init__(self, strength: float = 0.1, pt_clip: float = 0.1) -> None:
        self.strength = strength
        self.pt_clip = pt_clip

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        _, jet, slot = jets.index
        width = np.float32(self.strength) / np.maximum(jets.pt, np.float32(self.pt_clip))
        n_eta, n_phi = rand.normal_pair(_STREAM_SOFT, jet, slot)
        return replace(jets, deta=jets.deta + width * n_eta, dphi=jets.dphi + width * n_phi)


class CollinearSplit:
    """Split each particle with probability ``prob``, its four-momentum ``p`` into ``r p``
    and ``(1 - r) p``, ``r ~ U(0, 1)``; the new particles follow the jet's last one. With
    ``max_particles`` a jet splits at most ``max_particles - n`` particles (the first by
    slot). JetCLR's ``collinear_fill_jets`` fills every free slot up to its fixed 50."""

    def __init__(self, prob: float = 0.3, max_particles: int | None = None) -> None:
        self.prob = prob
        self.max_particles = max_particles

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        starts, jet, slot = jets.index
        u, r = rand.uniform_pair(_STREAM_SPLIT, jet, slot)
        split = u < self.prob
        if self.max_particles is not None:
            # the split's number within its jet: a running count made per jet
            rank = np.cumsum(split) - 1
            before = np.concatenate([[0], np.cumsum(jets.sum(split.astype(np.int64)))[:-1]])
            split &= (rank - before[jet]) < (self.max_particles - jets.counts)[jet]
        n_split = jets.sum(split.astype(np.int64))
        counts = jets.counts + n_split
        # r in (0, 1) away from the ends: r p and (1 - r) p both real particles in float32
        r = np.clip(r, np.float32(1e-6), np.float32(1 - 1e-6))
        chosen = np.flatnonzero(split)  # in jet order, then slot order
        keep = np.where(split, r, np.float32(1.0))
        # fields as rows (4, N): every field stays contiguous (strided float32 arrays
        # fall off numpy's SIMD loops: sinh and arcsinh then cost ~10x)
        fields = np.stack([jets.pt * keep, jets.deta, jets.dphi, jets.m * keep])
        products = np.stack([jets.pt, jets.deta, jets.dphi, jets.m]).take(chosen, axis=1)
        products[[0, 3]] *= 1 - r.take(chosen)
        # output row q of jet b: its particle q (q < n_b), else its split product q - n_b
        # (gathered, not scattered: a gather is ~10x faster in numpy)
        _, new_jet, new_slot = index = packed_index(counts)
        split_starts = np.concatenate([[0], np.cumsum(n_split)[:-1]])
        n = jets.counts[new_jet]
        source = np.where(
            new_slot < n,
            starts[new_jet] + new_slot,
            fields.shape[1] + split_starts[new_jet] + new_slot - n,
        )
        out = np.concatenate([fields, products], axis=1).take(source, axis=1)
        return Jets(*out, counts, jets.axis, index)


class SmearPt:
    """Multiply each particle's pT (and mass: the direction is kept) by
    ``exp(sigma N(0, 1))``, a detector-like energy resolution (not in JetCLR)."""

    def __init__(self, sigma: float = 0.1) -> None:
        self.sigma = sigma

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        _, jet, slot = jets.index
        factor = np.exp(np.float32(self.sigma) * rand.normal_pair(_STREAM_PT, jet, slot)[0])
        return replace(jets, pt=jets.pt * factor, m=jets.m * factor)


class Dropout:
    """Remove each particle with probability ``prob`` (never a jet's first, the leading
    particle of pT-sorted jets, so no jet is emptied); the rest keep their order."""

    def __init__(self, prob: float = 0.1) -> None:
        self.prob = prob

    def __call__(self, jets: Jets, rand: SampleRandom) -> Jets:
        _, jet, slot = jets.index
        keep = (rand.uniform_pair(_STREAM_DROP, jet, slot)[0] >= self.prob) | (slot == 0)
        kept = (x[keep] for x in (jets.pt, jets.deta, jets.dphi, jets.m))
        return Jets(*kept, jets.sum(keep.astype(np.int64)), jets.axis)


Op = Rotate | Translate | SoftSmear | CollinearSplit | SmearPt | Dropout


class JetView:
    """One view of a batch of jets: ``ops`` in order (none: the jets as they are), then
    the features."""

    def __init__(self, ops: Sequence[Op] = ()) -> None:
        self.ops = list(ops)

    def __call__(
        self, jets: Jets, seeds: np.ndarray, width: int | None = None, vectors: bool = False
    ) -> dict[str, torch.Tensor]:
        """``{"points": (B, P, F) float32, "mask": (B, P) bool}`` of ``jets``, each drawn
        from its seed ``(B,)``, padded to the longest jet or to ``width``; with
        ``vectors``, also the lab-frame four-momenta ``"vectors": (B, P, 4)`` float32."""
        rand = SampleRandom(seeds)
        for op in self.ops:
            jets = op(jets, rand)
        points, mask = jets.pad(particle_features(jets), width)
        view = {"points": torch.from_numpy(points), "mask": torch.from_numpy(mask)}
        if vectors:
            view["vectors"] = torch.from_numpy(jets.pad(jets.p4().astype(np.float32), width)[0])
        return view


class JetTransform(Views):
    """Several views of a batch of jets, or one (``single``); view ``v`` of a jet with
    seed ``k`` draws from seed ``derive(k, v)``."""

    views: list[JetView]

    def __call__(
        self,
        jets: Sequence[np.ndarray],
        seeds: np.ndarray,
        width: int | None = None,
        vectors: bool = False,
    ) -> dict[str, torch.Tensor] | list[dict[str, torch.Tensor]]:
        """Views of ``jets`` (``[(n_i, 4)]``), each padded to its longest jet or to
        ``width`` (with the four-momenta too when ``vectors``)."""
        batch, keys = Jets.from_list(list(jets)), as_words(np.asarray(seeds))
        return self.output(
            [view(batch, derive(keys, v), width, vectors) for v, view in enumerate(self.views)]
        )


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
    ops = [
        Rotate(max_angle) if rotate else None,
        CollinearSplit(split_prob, max_particles) if split_prob > 0 else None,
        SoftSmear(soft_strength, pt_clip) if soft_strength > 0 else None,
        Translate(translate) if translate > 0 else None,
        SmearPt(pt_smear) if pt_smear > 0 else None,
        Dropout(dropout) if dropout > 0 else None,
    ]
    return [op for op in ops if op is not None]


class JetCLRTransform(JetTransform):
    """``views`` JetCLR views of every jet; arguments as :func:`jetclr_ops` (default:
    JetCLR's four augmentations)."""

    def __init__(self, views: int = 2, **ops) -> None:
        super().__init__([JetView(jetclr_ops(**ops)) for _ in range(views)])


class JetWeakStrongTransform(JetTransform):
    """``weak_views`` weak views (the symmetries: rotation, small translation), then
    ``strong_views`` strong ones (JetCLR's four augmentations, pT smearing, dropout)."""

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
        weak = jetclr_ops(translate=translate, soft_strength=0.0, split_prob=0.0)
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
