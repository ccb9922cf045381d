"""Series in the UEA/UCR ``.ts`` text format, and the source of a UEA/UCR dataset.

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

from ssl_core.data.sources import ArrayData, ArraySource, BadDataError
from ssl_core.series.modality import Series


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


class TsArrays(ArrayData):
    """The series of one or more ``.ts`` files, each with a stable id (``file:line``) and
    a class.

    Args:
        files: The ``.ts`` files, read in order.
        class_names: Class names in label order (default: the first file's
            ``@classLabel`` list; a file without labels gives targets ``-1``).

    Raises:
        FileNotFoundError: A file is missing (the message names it).
        TsFormatError: A file does not follow the format, or holds a label that is
            not among ``class_names``.
    """

    error = BadSeriesError

    def __init__(self, files: Sequence[str | Path], class_names: Sequence[str] | None = None):
        self.files = [Path(f) for f in files]
        for f in self.files:
            if not f.is_file():
                raise FileNotFoundError(f"No .ts file at {f.resolve()}")
        parsed = [read_ts(f) for f in self.files]
        self.class_names = list(class_names or (parsed[0].class_names if parsed else []))
        lookup = {name: i for i, name in enumerate(self.class_names)}
        self._series: list[np.ndarray] = []
        ids, targets = [], []
        for ts in parsed:
            for array, label, line in zip(ts.series, ts.labels, ts.lines, strict=True):
                sample_id = f"{ts.path.name}:{line}"
                if label is not None and label not in lookup:
                    raise TsFormatError(f"{sample_id}: label {label!r} not in {self.class_names}")
                self._series.append(array)
                ids.append(sample_id)
                targets.append(-1 if label is None else lookup[label])
        super().__init__(ids, targets)
        self.channels = max((a.shape[0] for a in self._series if a.size), default=0)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([s.shape[-1] for s in self._series], dtype=np.int64)

    def get(self, i: int) -> np.ndarray:
        """Series ``i`` as a float32 array ``(C, T)``."""
        return self._series[i]

    def problems(self) -> dict[int, str]:
        """Series with NaN or inf values, or none at all (a ``.ts`` file's ``?``)."""
        found = {i: series_problem(s) for i, s in enumerate(self._series)}
        return {i: problem for i, problem in found.items() if problem}


class UEASeries(ArraySource):
    """A UEA/UCR archive dataset: ``<name>_TRAIN.ts`` (training, labels optional) and
    ``<name>_TEST.ts`` (the test set) in the data root (Bagnall et al. 2018); a series
    without a label is an unlabeled training sample. Both files take their class indices
    from the training file's ``@classLabel`` list.

    Args:
        dataset: The files' prefix (``JapaneseVowels``: 12 LPC channels, lengths 7-29,
            9 speakers, 270 training and 370 test series; Kudo et al. 1999).
        class_names: Class names in label order (default: the training file's
            ``@classLabel`` list).
    """

    modality = Series

    def __init__(self, dataset: str = "JapaneseVowels", class_names: list[str] | None = None):
        super().__init__(class_names)
        self.name, self.dataset = dataset, dataset
        self.layout = f"{dataset}_TRAIN.ts and {dataset}_TEST.ts"

    def exists(self, root: Path) -> bool:
        return (Path(root) / f"{self.dataset}_TRAIN.ts").is_file()

    def open(self, root: Path) -> TsArrays:
        train = Path(root) / f"{self.dataset}_TRAIN.ts"
        test = Path(root) / f"{self.dataset}_TEST.ts"
        names = self.class_names or tuple(read_ts(train).class_names)
        data = TsArrays([train] + ([test] if test.is_file() else []), class_names=names)
        self.class_names, self.channels = tuple(names), data.channels
        return data

    def split_of(self, data: ArrayData) -> list[str | None]:
        train = f"{self.dataset}_TRAIN.ts:"
        return ["train" if i.startswith(train) else "test" for i in data.ids]
