"""Particle jets on disk: the source that lists and reads them, and their kinematics
(the files' layout: docs/jets.md, "The data").

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys. 7,
  014 (2019), https://arxiv.org/abs/1902.09914 (the reference dataset this one mirrors)
"""

from __future__ import annotations

import bisect
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ssl_core.data.sources import ArrayData, ArraySource, BadDataError, DataNotFoundError
from ssl_core.points.features import NUM_FEATURES
from ssl_core.points.modality import Points

JET_FILES = ("top.npz", "qcd.npz")


class BadJetError(BadDataError, ValueError):
    """A jet that cannot be used: NaN or inf in its constituents, or no constituents."""


class JetArrays(ArrayData):
    """Jets of the ``.npz`` ``files`` under ``root``, in this order, held in memory (a jet
    is a ``(n, 4)`` slice, no copy until read)."""

    error = BadJetError

    def __init__(self, root: str | Path, files: Sequence[str] = JET_FILES) -> None:
        self.root, self.files = Path(root), list(files)
        missing = [f for f in self.files if not (self.root / f).is_file()]
        if missing:
            raise DataNotFoundError(f"No jet files {missing} under {self.root.resolve()}")
        arrays = [read_jet_file(self.root / name) for name in self.files]
        self._constituents, self._counts = [a[0] for a in arrays], [a[1] for a in arrays]
        sizes = [len(counts) for counts in self._counts]
        self._offsets = [0, *np.cumsum(sizes).tolist()]  # first sample of every file
        ids = [f"{f}:{row}" for f, n in zip(self.files, sizes, strict=True) for row in range(n)]
        super().__init__(ids, np.concatenate([a[2] for a in arrays]) if arrays else [])

    def get(self, i: int) -> np.ndarray:
        """Constituents ``(n, 4)`` float32 (px, py, pz, E) of jet ``i``."""
        f = bisect.bisect_right(self._offsets, i) - 1  # a list: ~30x cheaper than numpy here
        row = i - self._offsets[f]
        return self._constituents[f][row, : int(self._counts[f][row])]

    def problems(self) -> dict[int, str]:
        """Empty, overfull and NaN or inf jets, checked a file at a time."""
        out = {}
        for f, (constituents, counts) in enumerate(
            zip(self._constituents, self._counts, strict=True)
        ):
            slots = np.arange(constituents.shape[1])[None, :] < counts[:, None]
            broken = (~np.isfinite(constituents).all(axis=2) & slots).any(axis=1)
            overfull = counts > constituents.shape[1]
            for row in np.flatnonzero(overfull):
                out[self._offsets[f] + int(row)] = (
                    f"n_constituents {counts[row]} > the file's {constituents.shape[1]} slots"
                )
            for row in np.flatnonzero(broken | (counts <= 0)):
                i = self._offsets[f] + int(row)
                out[i] = jet_problem(constituents[row, : max(int(counts[row]), 0)])
        return out


def read_jet_file(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``constituents`` ``(N, P, 4)`` float32, ``n_constituents`` ``(N,)`` and ``label``
    ``(N,)`` (``-1`` where the file has none) of a jet file; :class:`BadDataError` where
    it is no readable ``.npz`` of that layout."""
    fix = "re-fetch or regenerate it (dvc pull, or the data stage)"
    try:
        with np.load(path, allow_pickle=False) as data:
            names = data.files
            keys = [k for k in ("constituents", "n_constituents", "label") if k in names]
            arrays = {k: np.asarray(data[k]) for k in keys}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise BadDataError(f"{path} cannot be read as a .npz file ({err}): {fix}") from None
    missing = [k for k in ("constituents", "n_constituents") if k not in arrays]
    if missing:
        raise BadDataError(
            f"{path} has no {' or '.join(missing)} array (it has {names}): a jet file holds "
            f"constituents (N, P, 4), n_constituents (N,) and label (N,); {fix}"
        )
    constituents = arrays["constituents"].astype(np.float32, copy=False)
    counts, labels = arrays["n_constituents"].astype(np.int64), arrays.get("label")
    if constituents.ndim != 3 or constituents.shape[2] != 4 or counts.ndim != 1:
        raise BadDataError(
            f"{path}: constituents must be (N, P, 4) (px, py, pz, E) and n_constituents "
            f"(N,), not {constituents.shape} and {counts.shape}; {fix}"
        )
    labels = np.full(len(counts), -1) if labels is None else labels
    if not len(constituents) == len(counts) == len(labels):
        raise BadDataError(
            f"{path}: {len(constituents)} jets of constituents but {len(counts)} counts and "
            f"{len(labels)} labels; {fix}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise BadDataError(f"{path}: labels must be integers (class ids), not {labels.dtype}")
    return constituents, counts, labels.astype(np.int64)


def jet_problem(particles: np.ndarray) -> str:
    """What makes a jet's constituents ``(n, 4)`` unusable, or ``""``."""
    if len(particles) == 0:
        return "empty jet (no constituents)"
    finite = np.isfinite(particles)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        return f"NaN or inf in constituent(s) {rows[:5].tolist()} of {len(particles)}"
    return ""


def jet_test_split(data: ArrayData, fraction: float = 0.2, seed: int = 0) -> set[str]:
    """A fixed, seeded test split: the ids of ``fraction`` of every class (each class's
    ids sorted, then permuted by ``numpy.random.default_rng(seed)``)."""
    rng = np.random.default_rng(seed)
    ids, targets = np.array(data.ids), data.targets
    test: list[str] = []
    for c in np.unique(targets):
        members = np.sort(ids[targets == c])
        take = int(round(fraction * len(members)))
        test += members[rng.permutation(len(members))[:take]].tolist()
    return set(test)


class JetFiles(ArraySource):
    """Jets of ``.npz`` files in the shared top-tagging layout (docs/jets.md, "The data").

    Args:
        files: File names under the root, in order (their rows are the samples).
        class_names: Names of classes 0, 1, ... (``qcd``, ``top``).
        signal_class: The positive class of ROC AUC and background rejection (1 = top).
        test_fraction: Share of every class in the fixed test set.
        test_seed: Seed of the test set.
    """

    name = "jets"
    class_names = ("qcd", "top")
    channels = NUM_FEATURES  # features per particle: what the backbone's in_features takes
    modality = Points
    layout = "top.npz and qcd.npz (constituents (N, 200, 4), n_constituents, label)"

    def __init__(
        self,
        files: Sequence[str] = JET_FILES,
        class_names: Sequence[str] | None = None,
        signal_class: int = 1,
        test_fraction: float = 0.2,
        test_seed: int = 0,
    ) -> None:
        super().__init__(class_names, NUM_FEATURES)
        self.files = tuple(files)
        self.signal_class = signal_class
        self.test_fraction, self.test_seed = test_fraction, test_seed

    def exists(self, root: Path) -> bool:
        return all((Path(root) / f).is_file() for f in self.files)

    def open(self, root: Path) -> JetArrays:
        return JetArrays(Path(root).resolve(), self.files)

    def split_of(self, data: ArrayData) -> list[str | None]:
        """The seeded test split of the labeled jets; the rest is training data."""
        test = jet_test_split(data, self.test_fraction, self.test_seed)
        return [
            "test" if i in test and t >= 0 else "train" if i not in test else None
            for i, t in zip(data.ids, data.targets.tolist(), strict=True)
        ]


def jet_pt_mass(p4: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Jet pT and invariant mass ``(B,)`` of constituents ``(B, P, 4)`` (their sum, the
    E-scheme of anti-kT's recombination), padding (``mask`` False) left out."""
    p4 = np.asarray(p4, dtype=np.float64)
    j = (p4 if mask is None else p4 * mask[..., None]).sum(axis=-2)
    mass2 = np.clip(j[:, 3] ** 2 - (j[:, :3] ** 2).sum(1), 0, None)
    return np.hypot(j[:, 0], j[:, 1]), np.sqrt(mass2)
