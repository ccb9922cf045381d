"""Random numbers of a batch of samples, each sample's from its own seed, vectorised.

The image transforms reseed a generator per sample (``set_random_seed``, with the seed
:class:`ssl_core.data.datasets.SeededSampler` drew for it), so a sample's views depend on
its seed alone. Jets are augmented a batch at a time, and building one
``numpy.random.Generator`` per jet costs more than augmenting it. So the draws are
counter-based instead (as JAX's and Philox's): the ``j``-th number of stream ``s`` of a
sample with seed ``k`` is ``splitmix64(key(k, s) + j * golden)``, computed for the whole
batch at once in ``uint64`` arithmetic. A sample's numbers depend only on its seed, the
stream and the slot: not on the batch it is in, its position there, or the batch's padding.

- [0] Steele, Lea, Flood, Fast splittable pseudorandom number generators, OOPSLA 2014
  (SplitMix64 and its finalizer)
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer on ``uint64`` arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def derive_seeds(seeds: np.ndarray, salt: int) -> np.ndarray:
    """New seeds ``(B,)`` from ``seeds`` and an integer ``salt`` (e.g. the view number)."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(seeds, dtype=np.uint64) + np.uint64(salt + 1) * _GOLDEN)


class SampleRandom:
    """Uniform and normal numbers ``(B, n)``, row ``b`` from ``seeds[b]`` alone.

    Args:
        seeds: One integer seed per sample ``(B,)`` (any integers; taken modulo 2^64).
    """

    def __init__(self, seeds: np.ndarray | list[int]) -> None:
        self.seeds = mix64(np.asarray(seeds, dtype=np.int64).astype(np.uint64))

    def __len__(self) -> int:
        return len(self.seeds)

    def bits(self, stream: int, n: int) -> np.ndarray:
        """Raw ``uint64`` numbers ``(B, n)`` of ``stream``."""
        keys = derive_seeds(self.seeds, stream)
        counters = np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN
        with np.errstate(over="ignore"):
            return mix64(keys[:, None] + counters[None, :])

    def uniform(self, stream: int, n: int) -> np.ndarray:
        """Uniform numbers in ``[0, 1)`` ``(B, n)`` float64 (53 random bits each)."""
        return (self.bits(stream, n) >> _S11).astype(np.float64) * 2.0**-53

    def particle_bits(self, stream: int, jet: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Raw ``uint64`` numbers ``(N,)`` of particles packed jet after jet: particle
        ``i`` is number ``slot[i]`` of stream ``stream`` of sample ``jet[i]`` (the same
        number :meth:`bits` gives at ``[jet[i], slot[i]]``)."""
        keys = derive_seeds(self.seeds, stream)
        with np.errstate(over="ignore"):
            counters = (slot.astype(np.uint64) + np.uint64(1)) * _GOLDEN
            return mix64(keys[jet] + counters)

    def particle_uniform2(
        self, stream: int, jet: np.ndarray, slot: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two independent uniform numbers in ``[0, 1)`` per particle, ``(N,)`` float32
        each (24 random bits each, from the two halves of one 64-bit number)."""
        bits = self.particle_bits(stream, jet, slot)
        scale = np.float32(2.0**-24)
        hi = (bits >> np.uint64(40)).astype(np.float32) * scale
        lo = ((bits >> np.uint64(8)) & np.uint64(0xFFFFFF)).astype(np.float32) * scale
        return hi, lo

    def particle_normal2(
        self, stream: int, jet: np.ndarray, slot: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two independent standard normal numbers per particle ``(N,)`` float32 each
        (Box-Muller's pair from one 64-bit number)."""
        u1, u2 = self.particle_uniform2(stream, jet, slot)
        radius = np.sqrt(np.float32(-2.0) * np.log(np.float32(1.0) - u1))  # 1 - u1 in (0, 1]
        angle = np.float32(2.0 * np.pi) * u2
        return radius * np.cos(angle), radius * np.sin(angle)

    def normal(self, stream: int, n: int) -> np.ndarray:
        """Standard normal numbers ``(B, n)`` float64 (Box-Muller on two streams)."""
        u1 = 1.0 - self.uniform(stream, n)  # in (0, 1]: the log is finite
        u2 = self.uniform(stream + 0x5EED, n)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
