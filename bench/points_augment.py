"""Throughput of two JetCLR views of real jets: vectorised over the batch vs a per-jet loop.

What is measured: jets per second, one process, one thread, for turning a batch of jets
(constituents read from ``../shared/data/jets-pythia8-top-qcd``, a fixed sample: the first
``n/2`` top and the first ``n/2`` QCD jets) into two JetCLR views, each
``{"points": (B, P, 7) float32, "mask": (B, P) bool}``, in batches of ``--batch``:

- ours: the loader's path, :class:`ssl_core.data.IndexedDataset` items collated by
  :class:`ssl_core.points.JetCollate` with :class:`ssl_core.points.JetCLRTransform`
  (rotation, collinear splitting, soft smearing, translation, then the 7 ParT features),
  the whole batch at once, each jet's numbers from its own seed.
- reference: the same operations with the same parameters, written per jet the way
  JetCLR's published augmentations (``collinear_fill_jets``, ...) are: a Python loop
  over jets, numpy on one jet's ``(n,)`` arrays, a loop over the splittings, and one
  ``numpy.random.Generator`` per jet seeded with its seed (what per-sample seeding costs
  in a per-jet transform); then padding and the features per jet.

Both draw from the same distributions (not the same numbers); the printout shows the
mean particle count and mean |delta eta| of the views of both as a check.

Then the training step's demand: jets per second of a SimCLR step (PlainParticleTransformer,
by default 128-d, 4 layers, 8 heads, or the ParticleFlowNetwork; lightly's projection
head and NT-Xent, AdamW) on a batch of ``--step-batch`` jets, two threads (the 2 cores),
against the loader's jets per second on one thread (one dataloader worker).

Usage: ``uv run --frozen python bench/points_augment.py [--n 2048] [--batch 256]
[--repeats 5] [--steps 2]``. Passes of ours and of the reference alternate (a shared
machine's load hits both); the last line is ``ratio <ours/reference>``, the median of the
passes' ratios.

- [0] Dillon et al., JetCLR, SciPost Phys. 12, 188 (2022), https://arxiv.org/abs/2108.04253
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "jets-pythia8-top-qcd"

# The parameters of JetCLRTransform() (ssl_core.points.augment.jetclr_ops' defaults).
MAX_ANGLE, SPLIT_PROB, SOFT_STRENGTH, PT_CLIP, TRANSLATE = np.pi, 0.3, 0.1, 0.1, 0.25


def reference_view(p4: np.ndarray, rng: np.random.Generator, cap: int) -> np.ndarray:
    """One JetCLR view of one jet ``(n, 4)`` (px, py, pz, E) as per-jet numpy: ``(m, 7)``
    features, JetCLR's order (rotate, collinear fill, distort, translate)."""
    p4 = p4.astype(np.float64)
    pt = np.hypot(p4[:, 0], p4[:, 1])
    eta = np.arcsinh(p4[:, 2] / pt)
    phi = np.arctan2(p4[:, 1], p4[:, 0])
    m = np.sqrt(np.clip(p4[:, 3] ** 2 - (p4[:, :3] ** 2).sum(1), 0, None))
    total = p4.sum(0)
    pt_j = np.hypot(total[0], total[1])
    axis = np.arcsinh(total[2] / pt_j), np.arctan2(total[1], total[0])
    deta, dphi = eta - axis[0], (phi - axis[1] + np.pi) % (2 * np.pi) - np.pi
    # rotate_jets
    theta = rng.uniform(-MAX_ANGLE, MAX_ANGLE)
    c, s = np.cos(theta), np.sin(theta)
    deta, dphi = c * deta - s * dphi, s * deta + c * dphi
    # collinear_fill_jets: a loop over the splittings, as JetCLR's
    n = len(pt)
    split = np.flatnonzero(rng.uniform(size=n) < SPLIT_PROB)[: max(cap - n, 0)]
    r = np.clip(rng.uniform(size=n), 1e-6, 1 - 1e-6)
    pt, m, deta, dphi = (np.concatenate([x, np.zeros(len(split))]) for x in (pt, m, deta, dphi))
    for j, k in enumerate(split):
        pt[n + j], m[n + j] = (1 - r[k]) * pt[k], (1 - r[k]) * m[k]
        deta[n + j], dphi[n + j] = deta[k], dphi[k]
        pt[k], m[k] = r[k] * pt[k], r[k] * m[k]
    # distort_jets
    width = SOFT_STRENGTH / np.maximum(pt, PT_CLIP)
    deta = deta + width * rng.normal(size=len(pt))
    dphi = dphi + width * rng.normal(size=len(pt))
    # translate_jets (in rapidity: a boost)
    shift = rng.uniform(-1, 1, 2) * TRANSLATE * np.array([np.ptp(deta), np.ptp(dphi)])
    mt = np.hypot(pt, m)
    y = np.arcsinh(pt * np.sinh(deta + axis[0]) / mt) + shift[0]
    deta = np.arcsinh(mt * np.sinh(y) / pt) - axis[0]
    dphi = (dphi + shift[1] + np.pi) % (2 * np.pi) - np.pi
    # features
    eta = deta + axis[0]
    pz = pt * np.sinh(eta)
    e = np.sqrt(m**2 + pt**2 + pz**2)
    phi = dphi + axis[1]
    pt_j = np.hypot((pt * np.cos(phi)).sum(), (pt * np.sin(phi)).sum())
    e_j = e.sum()
    return np.stack(
        [
            deta,
            dphi,
            np.log(pt),
            np.log(e),
            np.log(pt / pt_j),
            np.log(e / e_j),
            np.hypot(deta, dphi),
        ],
        axis=1,
    ).astype(np.float32)


def reference_collate(items: list[dict], cap: int) -> list[dict[str, torch.Tensor]]:
    """Two views of every item by :func:`reference_view`, padded into a batch."""
    per_view: list[list[np.ndarray]] = [[], []]
    for item in items:
        rng = np.random.default_rng(item["seed"])
        for v in range(2):
            per_view[v].append(reference_view(item["constituents"][:cap], rng, cap))
    out = []
    for views in per_view:
        width = max(len(x) for x in views)
        points = np.zeros((len(views), width, 7), np.float32)
        mask = np.zeros((len(views), width), bool)
        for b, x in enumerate(views):
            points[b, : len(x)], mask[b, : len(x)] = x, True
        out.append({"points": torch.from_numpy(points), "mask": torch.from_numpy(mask)})
    return out


def time_batches(collate, items: list[dict], batch: int) -> tuple[float, list]:
    """Jets per second of one pass over ``items`` in batches, and the pass's views."""
    views = []
    start = time.perf_counter()
    for i in range(0, len(items), batch):
        views.append(collate(items[i : i + batch]))
    return len(items) / (time.perf_counter() - start), views


def describe(views: list[list[dict]]) -> str:
    masks = [v["mask"] for b in views for v in b]
    points = [v["points"][v["mask"]] for b in views for v in b]
    count = statistics.mean(float(m.sum(1).float().mean()) for m in masks)
    deta = statistics.mean(float(p[:, 0].abs().mean()) for p in points)
    return f"mean particles/view {count:.1f}, mean |deta| {deta:.3f}"


def step_rate(
    batch: int,
    cap: int,
    steps: int,
    source,
    threads: int,
    backbone_name: str,
    dim: int,
    layers: int,
) -> float:
    """Jets per second a SimCLR step on ``batch`` jets consumes (median of ``steps``)."""
    from lightly.loss import NTXentLoss
    from lightly.models.modules import SimCLRProjectionHead

    from ssl_core.points import (
        JetCLRTransform,
        JetCollate,
        ParticleFlowNetwork,
        PlainParticleTransformer,
    )

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if backbone_name == "transformer":
        backbone = PlainParticleTransformer(embed_dim=dim, num_layers=layers)
    else:
        backbone = ParticleFlowNetwork()
    head = SimCLRProjectionHead(backbone.num_features, 2048, 128)
    criterion = NTXentLoss(temperature=0.5)
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    dataset = jet_set(source, range(len(source)))
    items = [dataset[(i, i)] for i in range(0, 2 * batch, 2)]
    x0, x1 = JetCollate(JetCLRTransform(), max_particles=cap)(items)["views"]
    times = []
    for _ in range(steps + 1):  # the first is a warm-up
        start = time.perf_counter()
        loss = criterion(head(backbone(x0)), head(backbone(x1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    torch.set_num_threads(1)
    return batch / statistics.median(times[1:])


def jet_set(source, rows):
    """The jets at ``rows`` as the datamodule's dataset holds them."""
    from ssl_core.data import IndexedDataset

    samples = [(source.ids[i], int(source.targets[i])) for i in rows]
    return IndexedDataset(source, samples, "constituents")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=2048, help="jets (half top, half QCD)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--cap", type=int, default=128, help="max particles per jet")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2, help="timed training steps (0: skip)")
    parser.add_argument("--step-batch", type=int, default=256)
    parser.add_argument("--step-threads", type=int, default=2)
    parser.add_argument("--step-backbone", choices=("transformer", "pfn"), default="transformer")
    parser.add_argument("--step-dim", type=int, default=128, help="transformer width")
    parser.add_argument("--step-layers", type=int, default=4, help="transformer layers")
    args = parser.parse_args(argv)
    if not (args.root / "top.npz").is_file():
        print(f"SKIP: no jets at {args.root} (needs ../shared/data/jets-pythia8-top-qcd)")
        return 0
    torch.set_num_threads(1)
    from ssl_core.points import JetArrays, JetCLRTransform, JetCollate

    source = JetArrays(args.root)
    half = args.n // 2
    dataset = jet_set(source, list(range(half)) + list(range(10000, 10000 + half)))
    seeds = np.random.default_rng(0).integers(0, 2**31, len(dataset))
    items = [dataset[(i, int(seeds[i]))] for i in range(len(dataset))]
    ours = JetCollate(JetCLRTransform(), max_particles=args.cap)
    print(f"{len(items)} jets, batches of {args.batch}, cap {args.cap} particles, one thread")

    def loader(batch_items):  # the loader's whole path: read + collate
        return ours([dataset[(it["index"], it["seed"])] for it in batch_items])

    # interleaved passes, so that both see the same load of a shared machine
    rates_ours, rates_ref, ratios = [], [], []
    for _ in range(args.repeats):
        rate, views_ours = time_batches(loader, items, args.batch)
        rates_ours.append(rate)
        rate, views_ref = time_batches(lambda b: reference_collate(b, args.cap), items, args.batch)
        rates_ref.append(rate)
        ratios.append(rates_ours[-1] / rates_ref[-1])
    rate_ours, rate_ref = statistics.median(rates_ours), statistics.median(rates_ref)
    print(
        f"ours (vectorised, read + collate): {rate_ours:9.0f} jets/s  ({describe([b['views'] for b in views_ours])})"
    )
    print(f"reference (per-jet loop):          {rate_ref:9.0f} jets/s  ({describe(views_ref)})")
    if args.steps > 0:
        demand = step_rate(
            args.step_batch,
            args.cap,
            args.steps,
            source,
            args.step_threads,
            args.step_backbone,
            args.step_dim,
            args.step_layers,
        )
        net = (
            f"PlainParticleTransformer {args.step_dim}-d x {args.step_layers}"
            if args.step_backbone == "transformer"
            else "ParticleFlowNetwork"
        )
        print(
            f"training step demand (SimCLR, {net}, batch {args.step_batch}, "
            f"{args.step_threads} threads): {demand:.0f} jets/s; loader on one worker: "
            f"{rate_ours:.0f} jets/s ({rate_ours / demand:.0f}x the demand)"
        )
    best_ours, best_ref = max(rates_ours), max(rates_ref)
    print(
        f"best passes (least disturbed by the machine's load): ours {best_ours:.0f}, "
        f"reference {best_ref:.0f} jets/s, ratio {best_ours / best_ref:.1f}"
    )
    print(
        f"ratios of the {args.repeats} interleaved passes: {', '.join(f'{r:.1f}' for r in ratios)}"
    )
    print(f"ratio {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
