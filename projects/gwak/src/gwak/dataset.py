"""GWAK-style strain as an ssl-core source: generated on first use (:mod:`gwak.strain`)
under ``$SSL_CORE_CACHE``, training on the anomaly test's classes (background, glitches,
binary black holes); sine-Gaussians and white-noise bursts are only in the test set: the
unseen anomalies (Raikman et al. 2023, arXiv:2309.11537).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gwak.augment import Strain
from gwak.strain import CLASSES, GWConfig, StrainArrays, cache_root, ensure_dataset
from ssl_core.data.sources import ArrayData, ArraySource

PROJECT_DIR = Path(__file__).resolve().parents[2]
TRAIN_CLASSES = ("background", "glitch", "bbh")


def parse_parameters(text: str | None) -> dict:
    """``"n_train=1000,seed=0"`` -> ``{"n_train": 1000, "seed": 0}`` (integers, floats or
    words); ``""``/``None`` -> ``{}``: a generated source's parameters in ``params.yaml``."""
    out: dict = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {part!r} in {text!r}")
        out[key.strip()] = _number(value.strip())
    return out


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class GWAK(ArraySource):
    """Generated GWAK-style strain (:mod:`gwak.strain`: H1/L1 whitened windows of
    background, glitches, BBH chirps, sine-Gaussians, white-noise bursts), written on first
    use under ``$SSL_CORE_CACHE/gwak/<hash of the parameters>`` (the default root).

    Rows ``0 .. n_train - 1`` of each class file are training windows, the next ``n_test``
    the test set; sample ``i`` of a class is the same whatever ``n_train + n_test`` is.

    Args:
        n_train: Training windows per class.
        n_test: Test windows per class.
        seed: The generator's base seed.
        train_classes: Classes listed for training (default: background, glitch, bbh);
            the test set holds every class, so the others are unseen anomalies.
    """

    name = "gwak"
    channels = 2
    modality = Strain
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    layout = "config.json and <class>.npz files written by gwak.strain.write_dataset"
    evaluators = ("gwak.efficiency:EfficiencyVsSNR",)

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        train_classes: list[str] | None = None,
    ) -> None:
        super().__init__(CLASSES, 2)
        self.n_train, self.n_test, self.seed = n_train, n_test, seed
        self.train_classes = tuple(train_classes or TRAIN_CLASSES)
        unknown = set(self.train_classes) - set(CLASSES)
        if unknown:
            raise ValueError(f"Unknown classes {sorted(unknown)}; choose from {list(CLASSES)}")
        self.held_out = tuple(c for c in CLASSES if c not in self.train_classes)
        self.config = GWConfig()
        self.default_root = cache_root(n_train + n_test, seed, CLASSES, self.config)

    def exists(self, root: Path) -> bool:
        return (Path(root) / "config.json").is_file()

    def prepare(self, root: str | Path | None = None) -> Path:
        """Write the strain to ``root`` (default: :attr:`default_root`) unless it is there."""
        root = self.default_root if root is None else root
        return ensure_dataset(root, self.n_train + self.n_test, self.seed, CLASSES, self.config)

    def generated(self, variant: str | None) -> tuple[GWAK, Path]:
        """The data stage (``source: generate``): the source with the parameters of
        ``variant`` and its data, written under ``$SSL_CORE_CACHE``."""
        source = type(self)(**parse_parameters(variant))
        return source, source.prepare()

    def open(self, root: Path) -> StrainArrays:
        return StrainArrays(self.prepare(root), CLASSES)

    def split_of(self, data: ArrayData) -> list[str | None]:
        rows = [int(i.rsplit(":", 1)[1]) for i in data.ids]
        return [
            "test" if row >= self.n_train else "train" if CLASSES[t] in self.train_classes else None
            for row, t in zip(rows, data.targets.tolist(), strict=True)
        ]

    def columns(self, root: Path, paths: list[str]) -> dict[str, np.ndarray]:
        """Per window, for efficiency vs SNR (:class:`gwak.efficiency.EfficiencyVsSNR`):
        ``snr``, the network SNR (0: background), and ``excess_power``, the coincident
        excess-power score of the whitened strain (:func:`gwak.excess_power.excess_power`,
        the baseline without learning)."""
        from gwak.excess_power import excess_power

        data = self.load(root)
        rows = [data.index(p) for p in paths]
        return {
            "snr": data.snr[rows].astype(np.float32),
            "excess_power": excess_power(data.strain[rows], self.config.sample_rate).astype(
                np.float32
            ),
        }
