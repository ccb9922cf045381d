"""Random numbers of a batch of samples, each sample's from its own seed, vectorised (for
augmentations made a batch at a time). Counter-based: number ``j`` of stream ``s`` of the
sample with seed ``k`` is ``splitmix64(key(k, s) + (j + 1) golden)``, whatever the batch.
numpy (``uint64``; uniform float64, 53 bits) or torch (``int64``, logical shifts by
masking; float32, 24 bits): neither library has a generator keyed per row.

- [0] Steele, Lea, Flood, Fast splittable pseudorandom number generators, OOPSLA 2014
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

GOLDEN, M1, M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
CHANNEL_STRIDE = 2**32  # counter of (channel c, step t) of a series: c * CHANNEL_STRIDE + t


def _const(value: int, like: Any) -> Any:
    """A 64-bit constant as ``uint64`` for numpy, as the int64 of the same bits for torch."""
    value %= 2**64
    if isinstance(like, np.ndarray):
        return np.uint64(value)
    return value - 2**64 if value >= 2**63 else value


def _shr(x: Any, bits: int) -> Any:
    """Logical right shift of 64-bit words (torch's ``>>`` on int64 is arithmetic)."""
    if isinstance(x, np.ndarray):
        return x >> np.uint64(bits)
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def mix64(x: Any) -> Any:
    """SplitMix64's finalizer on ``uint64`` arrays or ``int64`` tensors (wrapping)."""
    with np.errstate(over="ignore"):
        x = (x ^ _shr(x, 30)) * _const(M1, x)
        x = (x ^ _shr(x, 27)) * _const(M2, x)
        return x ^ _shr(x, 31)


def derive(keys: Any, salt: int) -> Any:
    """New keys ``(B,)`` from keys or seeds ``(B,)`` and an integer ``salt`` (a view's or an
    op's number): independent streams for the same samples."""
    with np.errstate(over="ignore"):
        return mix64(keys + _const((salt + 1) * GOLDEN, keys))


def as_words(seeds: Any) -> Any:
    """Seeds as 64-bit words: numpy ``uint64``, or an ``int64`` tensor (tensor or list)."""
    if isinstance(seeds, np.ndarray):
        return np.asarray(seeds, dtype=np.int64).astype(np.uint64).reshape(-1)
    return torch.as_tensor(seeds, dtype=torch.int64).reshape(-1)


class SampleRandom:
    """Uniform and normal numbers of a batch, row ``b`` from ``seeds[b]`` alone; in numpy
    for a numpy array of seeds ``(B,)``, else in torch on the seeds' device."""

    def __init__(self, seeds: Any) -> None:
        self.keys = mix64(as_words(seeds))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def numpy(self) -> bool:
        return isinstance(self.keys, np.ndarray)

    def _arange(self, n: int) -> Any:
        if self.numpy:
            return np.arange(n, dtype=np.uint64)
        return torch.arange(n, device=self.keys.device)

    def derive(self, salt: int) -> SampleRandom:
        """An independent generator for the same samples (a view's or an op's)."""
        child = SampleRandom.__new__(SampleRandom)
        child.keys = derive(self.keys, salt)
        return child

    def bits(self, stream: int, counters: Any, rows: Any = None) -> Any:
        """Raw 64-bit words of ``stream`` at ``counters``: ``(B, *counters.shape)``, or with
        ``rows`` ``(N,)`` word ``counters[i]`` of sample ``rows[i]``."""
        keys = derive(self.keys, stream)
        if self.numpy:
            counters = np.asarray(counters).astype(np.uint64)
        else:
            counters = torch.as_tensor(counters, device=keys.device).to(torch.int64)
        if rows is not None:
            keys = keys[rows]
        else:
            keys = keys.reshape(-1, *([1] * counters.ndim))
        with np.errstate(over="ignore"):
            return mix64(keys + (counters + _const(1, keys)) * _const(GOLDEN, keys))

    def uniform_at(self, stream: int, counters: Any) -> Any:
        """Uniform numbers in ``[0, 1)`` at ``counters`` (see :meth:`bits`)."""
        bits = self.bits(stream, counters)
        if self.numpy:
            return _shr(bits, 11).astype(np.float64) * 2.0**-53
        return _shr(bits, 40).to(torch.float32) * 2.0**-24

    def normal_at(self, stream: int, counters: Any) -> Any:
        """Standard normal numbers at ``counters`` (Box-Muller on streams ``stream`` and
        ``stream + 0x5EED``)."""
        xp = np if self.numpy else torch
        u1 = 1.0 - self.uniform_at(stream, counters)  # in (0, 1]: the log is finite
        u2 = self.uniform_at(stream + 0x5EED, counters)
        return xp.sqrt(-2.0 * xp.log(u1)) * xp.cos(2.0 * math.pi * u2)

    def uniform(self, stream: int, n: int = 1) -> Any:
        """``(B, n)`` uniform numbers in ``[0, 1)``."""
        return self.uniform_at(stream, self._arange(n))

    def normal(self, stream: int, n: int = 1) -> Any:
        """``(B, n)`` standard normal numbers."""
        return self.normal_at(stream, self._arange(n))

    def normal_series(self, stream: int, channels: int, length: int) -> torch.Tensor:
        """``(B, C, T)`` standard normal numbers, entry ``(c, t)`` independent of ``length``."""
        c = torch.arange(channels, device=self.keys.device)[:, None] * CHANNEL_STRIDE
        t = torch.arange(length, device=self.keys.device)[None, :]
        return self.normal_at(stream, c + t)

    def uniform_pair(self, stream: int, rows: Any, counters: Any) -> tuple[Any, Any]:
        """Two uniform numbers in ``[0, 1)`` per entry ``(N,)``, float32 from the two halves
        of word ``counters[i]`` of sample ``rows[i]``."""
        bits = self.bits(stream, counters, rows)
        hi, lo = _shr(bits, 40), _shr(bits, 8) & 0xFFFFFF
        if self.numpy:
            scale = np.float32(2.0**-24)
            return hi.astype(np.float32) * scale, lo.astype(np.float32) * scale
        return hi.to(torch.float32) * 2.0**-24, lo.to(torch.float32) * 2.0**-24

    def normal_pair(self, stream: int, rows: Any, counters: Any) -> tuple[Any, Any]:
        """Two standard normal numbers per entry ``(N,)`` (Box-Muller on :meth:`uniform_pair`)."""
        xp = np if self.numpy else torch
        u1, u2 = self.uniform_pair(stream, rows, counters)
        radius = xp.sqrt(-2.0 * xp.log(1.0 - u1))  # 1 - u1 in (0, 1]
        angle = 2.0 * math.pi * u2
        return radius * xp.cos(angle), radius * xp.sin(angle)
