"""Ramp-ups of the weight of an unlabeled loss over a run.

- [0] Mean Teacher, Tarvainen & Valpola 2017, https://arxiv.org/abs/1703.01780
  (the sigmoid ramp-up, after Laine & Aila 2017)
- [1] Pseudo-Label, Lee 2013, ICML 2013 Workshop on Challenges in Representation
  Learning (the linear ramp-up between T1 and T2)
"""

from __future__ import annotations

import math


def rampup_steps(rampup: float, total_steps: float) -> int:
    """A ramp-up length in optimizer steps: ``rampup`` is a share of the run's
    ``total_steps`` if <= 1, else a number of steps."""
    return int(rampup * total_steps) if rampup <= 1 else int(rampup)


def sigmoid_rampup(step: int, length: int) -> float:
    """``exp(-5 (1 - t)^2)`` with ``t = step / length`` clipped to [0, 1] ([0], sec. 3);
    1 when ``length`` is 0."""
    if length <= 0:
        return 1.0
    t = min(max(step / length, 0.0), 1.0)
    return math.exp(-5.0 * (1.0 - t) ** 2)


def linear_rampup(step: int, start: float, end: float) -> float:
    """Lee's alpha(t) / alpha_f ([1]): 0 before ``start``, linear to 1 at ``end``, then 1."""
    if step < start:
        return 0.0
    if step >= end:
        return 1.0
    return (step - start) / (end - start)
