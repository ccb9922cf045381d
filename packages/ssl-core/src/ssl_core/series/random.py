"""Counter-based random numbers for a batch of series, each sample's from its own seed.

The image transforms reseed a generator per sample with the seed
:class:`ssl_core.data.datasets.SeededSampler` drew for it (``set_random_seed``), so a
sample's views depend on its seed alone. Series are augmented a whole padded batch at a
time, on the CPU or the device, so the draws here are counter-based instead (as Philox
and JAX's are): number ``j`` of stream ``s`` for the sample with seed ``k`` is
``splitmix64(key(k, s) + j * golden)``, computed for the batch at once in ``int64``
arithmetic (wrapping; logical right shifts by masking). A sample's numbers depend on its
seed, the stream and the counter ``j`` only: not on the batch it is in, its position in
it, or the batch's padding (per-time-step noise uses ``j = c * 2**32 + t``, never the
padded length).

- [0] Steele, Lea, Flood, Fast splittable pseudorandom number generators, OOPSLA 2014
  (SplitMix64 and its finalizer)
"""

from __future__ import annotations

import torch


def _signed(value: int) -> int:
    """A 64-bit unsigned constant as the int64 with the same bits."""
    return value - 2**64 if value >= 2**63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_M1 = _signed(0xBF58476D1CE4E5B9)
_M2 = _signed(0x94D049BB133111EB)
CHANNEL_STRIDE = 2**32  # counter of (channel c, time t): c * CHANNEL_STRIDE + t


def _shr(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 ``x`` (torch's ``>>`` is arithmetic)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def mix64(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finalizer on int64 tensors (wrapping arithmetic)."""
    x = (x ^ _shr(x, 30)) * _M1
    x = (x ^ _shr(x, 27)) * _M2
    return x ^ _shr(x, 31)


def derive(seeds: torch.Tensor, salt: int) -> torch.Tensor:
    """New int64 keys ``(B,)`` from keys ``(B,)`` and an integer ``salt`` (e.g. a view's
    or an op's number): independent streams for the same sample."""
    return mix64(seeds.to(torch.int64) + _signed((salt + 1) * 0x9E3779B97F4A7C15 % 2**64))


class SampleRandom:
    """Uniform and normal numbers of a batch, row ``b`` from ``seeds[b]`` alone.

    Args:
        seeds: One integer seed per sample ``(B,)`` (a tensor or a list; its device is
            where the numbers are made).
    """

    def __init__(self, seeds: torch.Tensor | list[int]) -> None:
        seeds = torch.as_tensor(seeds, dtype=torch.int64)
        self.keys = mix64(seeds.reshape(-1))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def device(self) -> torch.device:
        return self.keys.device

    def bits(self, stream: int, counters: torch.Tensor) -> torch.Tensor:
        """Raw int64 numbers ``(B, *counters.shape)`` of ``stream`` at ``counters``."""
        keys = derive(self.keys, stream).reshape(-1, *([1] * counters.ndim))
        return mix64(keys + (counters.to(self.device, torch.int64) + 1) * _GOLDEN)

    def uniform_at(self, stream: int, counters: torch.Tensor) -> torch.Tensor:
        """Uniform float32 numbers in ``[0, 1)`` (24 random bits each) at ``counters``."""
        return _shr(self.bits(stream, counters), 40).to(torch.float32) * 2.0**-24

    def normal_at(self, stream: int, counters: torch.Tensor) -> torch.Tensor:
        """Standard normal float32 numbers at ``counters`` (Box-Muller on two streams)."""
        u1 = 1.0 - self.uniform_at(stream, counters)  # in (0, 1]: the log is finite
        u2 = self.uniform_at(stream + 0x5EED, counters)
        return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * torch.pi * u2)

    def uniform(self, stream: int, n: int = 1) -> torch.Tensor:
        """``(B, n)`` uniform numbers in ``[0, 1)``."""
        return self.uniform_at(stream, torch.arange(n, device=self.device))

    def normal(self, stream: int, n: int = 1) -> torch.Tensor:
        """``(B, n)`` standard normal numbers."""
        return self.normal_at(stream, torch.arange(n, device=self.device))

    def normal_series(self, stream: int, channels: int, length: int) -> torch.Tensor:
        """``(B, C, T)`` standard normal numbers; entry ``(c, t)`` of a sample is the same
        whatever ``length`` (the batch's padded length) is."""
        c = torch.arange(channels, device=self.device)[:, None] * CHANNEL_STRIDE
        t = torch.arange(length, device=self.device)[None, :]
        return self.normal_at(stream, c + t)

    def derive(self, salt: int) -> SampleRandom:
        """An independent generator for the same samples (e.g. view ``salt``, or op
        ``salt`` of a view): its numbers depend on each sample's seed and ``salt``."""
        child = SampleRandom.__new__(SampleRandom)
        child.keys = derive(self.keys, salt)
        return child
