"""Series in the UEA/UCR ``.ts`` text format, and a source that lists them.

The format (the archive's own description, as in the files' headers): ``#`` comment
lines; ``@`` header lines (``@problemName``, ``@timeStamps``, ``@missing``,
``@univariate``, ``@dimensions``, ``@equalLength``, ``@seriesLength``, ``@classLabel true
<labels...>`` or ``@targetLabel true``); then, after ``@data``, one series a line:
channels separated by ``:``, values by ``,``, the label last when the file has one. Series
may differ in length (``@equalLength false``); ``?`` is a missing value (read as NaN).
Our own reader: aeon's would pin numba < 0.64, pandas < 3.1, scipy < 1.18, numpy < 2.5.

A sample's id is its file and line number (``JapaneseVowels_TRAIN.ts:17``): stable as long
as the file is, and it points an editor at the line.

- [0] Bagnall et al., The UEA multivariate time series classification archive, 2018,
  https://arxiv.org/abs/1811.00075
- [1] Kudo, Toyama, Shimbo, Multidimensional curve classification using passing-through
  regions, Pattern Recognition Letters 20 (1999) (JapaneseVowels)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssl_core.data.sources import BadDataError


class BadSeriesError(BadDataError, ValueError):
    """A series that cannot be used (NaN, inf, no values); the message names it."""


class TsFormatError(BadDataError, ValueError):
    """A ``.ts`` file that does not follow the format; the message names file and line."""


@dataclass
class TsFile:
    """The content of one ``.ts`` file.

    Attributes:
        path: The file.
        header: ``@`` headers by lower-case name (``"dimensions": "12"``, ...).
        class_names: The labels ``@classLabel`` declares, in its order (empty without).
        series: One float32 array ``(C, T_i)`` per series.
        labels: The label text of each series (``None`` for a file without labels).
        lines: The 1-based line number of each series in the file.
    """

    path: Path
    header: dict[str, str] = field(default_factory=dict)
    class_names: list[str] = field(default_factory=list)
    series: list[np.ndarray] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _parse_values(text: str) -> np.ndarray:
    """``"1.0,2,?"`` -> float32 array (``?`` and ``NaN`` as NaN); ``""`` -> empty."""
    text = text.strip()
    if not text:
        return np.zeros(0, np.float32)
    return np.array(
        [np.nan if v.strip() in ("?", "") else float(v) for v in text.split(",")],
        dtype=np.float32,
    )


def read_ts(path: str | Path) -> TsFile:
    """Read a ``.ts`` file.

    Args:
        path: The file.

    Returns:
        Its headers, class names, series ``(C, T_i)`` float32 and labels.

    Raises:
        TsFormatError: No ``@data`` line, time stamps (``@timeStamps true``, not
            supported), a series whose channel count differs from ``@dimensions`` or
            from the first series', channels of one series with different lengths, or
            a value that is not a number; the message names file and line.
    """
    path = Path(path)
    out = TsFile(path=path)
    has_labels = False
    in_data = False
    channels: int | None = None
    with path.open(encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.strip()
            where = f"{path.name}:{number}"
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise TsFormatError(
                        f"{where}: expected a '@' header or '@data', got {line[:40]!r}"
                    )
                key, _, value = line[1:].partition(" ")
                key, value = key.lower(), value.strip()
                if key == "data":
                    in_data = True
                    continue
                out.header[key] = value
                words = value.split()
                if key == "timestamps" and words[:1] == ["true"]:
                    raise TsFormatError(f"{where}: @timeStamps true is not supported")
                if key == "classlabel" and words[:1] == ["true"]:
                    has_labels, out.class_names = True, words[1:]
                if key == "targetlabel" and words[:1] == ["true"]:
                    has_labels = True
                if key == "dimensions":
                    channels = int(value)
                continue
            parts = line.split(":")
            label = parts.pop().strip() if has_labels else None
            try:
                values = [_parse_values(p) for p in parts]
            except ValueError as err:
                raise TsFormatError(f"{where}: {err}") from None
            if channels is None:
                channels = len(values)
            if len(values) != channels:
                raise TsFormatError(f"{where}: {len(values)} channels, expected {channels}")
            lengths = {len(v) for v in values}
            if len(lengths) > 1:
                raise TsFormatError(
                    f"{where}: channels of one series have different lengths {sorted(lengths)}"
                )
            out.series.append(np.stack(values) if values else np.zeros((0, 0), np.float32))
            out.labels.append(label)
            out.lines.append(number)
    if not in_data:
        raise TsFormatError(f"{path}: no '@data' line")
    return out


def series_problem(series: np.ndarray) -> str:
    """What makes a series ``(C, T)`` unusable (``""`` when nothing does)."""
    if series.ndim != 2 or series.shape[1] == 0:
        return "zero length"
    nan, inf = int(np.isnan(series).sum()), int(np.isinf(series).sum())
    problems = [f"{n} {what} values" for n, what in ((nan, "NaN"), (inf, "inf")) if n]
    return ", ".join(problems)


def describe_bad(bad: dict[str, str], limit: int = 5) -> str:
    """One line naming bad samples: ``"3 bad series: a.ts:17 (zero length), ..."``."""
    shown = ", ".join(f"{k} ({v})" for k, v in list(bad.items())[:limit])
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"{len(bad)} bad series: {shown}{more}"


@dataclass(frozen=True)
class SeriesSample:
    """One series: its id (``file:line``), class (``-1`` when unknown) and length."""

    id: str
    target: int
    length: int


class TsSource:
    """The series of one or more ``.ts`` files, each with a stable id and a class.

    Args:
        files: The ``.ts`` files, read in order.
        class_names: Class names in label order (default: the first file's
            ``@classLabel`` list; a file without labels gives targets ``-1``).

    Raises:
        FileNotFoundError: A file is missing (the message names it).
        TsFormatError: A file does not follow the format, or holds a label that is
            not among ``class_names``.
    """

    def __init__(self, files: Sequence[str | Path], class_names: Sequence[str] | None = None):
        self.files = [Path(f) for f in files]
        for f in self.files:
            if not f.is_file():
                raise FileNotFoundError(f"No .ts file at {f.resolve()}")
        parsed = [read_ts(f) for f in self.files]
        self.class_names = list(class_names or (parsed[0].class_names if parsed else []))
        lookup = {name: i for i, name in enumerate(self.class_names)}
        self._series: list[np.ndarray] = []
        self.samples: list[SeriesSample] = []
        for ts in parsed:
            for array, label, line in zip(ts.series, ts.labels, ts.lines, strict=True):
                sample_id = f"{ts.path.name}:{line}"
                if label is not None and label not in lookup:
                    raise TsFormatError(f"{sample_id}: label {label!r} not in {self.class_names}")
                target = -1 if label is None else lookup[label]
                self._series.append(array)
                self.samples.append(SeriesSample(sample_id, target, int(array.shape[-1])))
        widths = {a.shape[0] for a in self._series if a.size}
        self.channels = max(widths, default=0)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.samples]

    @property
    def targets(self) -> np.ndarray:
        """Class of every sample ``(N,)`` int64 (``-1``: unlabeled)."""
        return np.array([s.target for s in self.samples], dtype=np.int64)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([s.length for s in self.samples], dtype=np.int64)

    def index(self, sample_id: str) -> int:
        """Position of the sample with id ``sample_id``."""
        if not hasattr(self, "_index"):
            self._index = {s.id: i for i, s in enumerate(self.samples)}
        return self._index[sample_id]

    def read(self, i: int) -> np.ndarray:
        """Series ``i`` as a float32 array ``(C, T)``.

        Raises:
            BadSeriesError: It holds NaN or inf values or none at all (the message
                names it: ``JapaneseVowels_TRAIN.ts:17: 2 NaN values``).
        """
        series = self._series[i]
        problem = series_problem(series)
        if problem:
            raise BadSeriesError(f"{self.samples[i].id}: {problem}")
        return series

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std ``(C,)`` over every real step of the usable series
        (for standardisation on the device; measure them on training data)."""
        from ssl_core.series.collate import channel_statistics

        return channel_statistics(s for s in self._series if not series_problem(s))

    def bad_samples(self) -> dict[str, str]:
        """Every unusable sample: ``{id: problem}``."""
        found = {}
        for sample, series in zip(self.samples, self._series, strict=True):
            problem = series_problem(series)
            if problem:
                found[sample.id] = problem
        return found


class UEASource(TsSource):
    """A UEA/UCR archive dataset as the archive distributes it: ``<name>_TRAIN.ts`` and
    ``<name>_TEST.ts`` in ``root`` (JapaneseVowels by default: 12 LPC channels, lengths
    7-29, 9 speakers; 270 training and 370 test series).

    Args:
        root: The folder holding the files (e.g. ``../shared/data/uea-japanesevowels``).
        name: The dataset's name, the files' prefix.
        split: ``"train"`` or ``"test"``.

    Both splits take their class names from the training file, so a test file that
    lists its labels in another order still gets the training file's class indices.
    """

    def __init__(
        self, root: str | Path, name: str = "JapaneseVowels", split: str = "train"
    ) -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        self.root, self.name, self.split = Path(root), name, split
        train = self.root / f"{name}_TRAIN.ts"
        if not train.is_file():
            raise FileNotFoundError(
                f"No {train.name} in {self.root.resolve()}: give the folder that holds "
                f"{name}_TRAIN.ts and {name}_TEST.ts (the UEA/UCR archive's files)."
            )
        names = read_ts(train).class_names if split == "test" else None
        files = [train] if split == "train" else [self.root / f"{name}_TEST.ts"]
        super().__init__(files, class_names=names)
