"""Series in the UEA/UCR ``.ts`` text format, and the source of a UEA/UCR dataset (the
format and what loading checks: docs/series.md, "What loading a .ts file checks").

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
from ssl_core.errors import MissingInputError
from ssl_core.series.modality import Series


class BadSeriesError(BadDataError, ValueError):
    """A series that cannot be used (NaN, inf, missing values, no values)."""


class TsFormatError(BadDataError, ValueError):
    """A ``.ts`` file that does not follow the format, or contradicts its headers."""


#: How the archive spells the headers this reader checks (keys are read in lower case).
_HEADERS = "timeStamps missing univariate dimensions equalLength seriesLength".split()
HEADER_NAMES = {name.lower(): name for name in [*_HEADERS, "classLabel", "targetLabel"]}


@dataclass
class TsFile:
    """The content of one ``.ts`` file: its ``@`` headers by lower-case name and their
    lines, the ``@classLabel`` classes, and per series its ``(C, T_i)`` float32 values
    (``?`` as NaN), label text (``None`` without labels), line and count of ``?``."""

    path: Path
    header: dict[str, str] = field(default_factory=dict)
    header_lines: dict[str, int] = field(default_factory=dict)
    class_names: list[str] = field(default_factory=list)
    series: list[np.ndarray] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)

    def said(self, key: str) -> str:
        """``"@equalLength true (line 8)"``: a header as the file says it, for messages."""
        return f"@{HEADER_NAMES.get(key, key)} {self.header[key]} (line {self.header_lines[key]})"


def _parse_values(text: str, where: str) -> tuple[np.ndarray, int]:
    """``"1.0,2,?"`` -> a float32 array (``?`` and ``NaN`` as NaN) and its number of
    ``?``; ``""`` -> an empty array."""
    text = text.strip()
    if not text:
        return np.zeros(0, np.float32), 0
    values, missing = [], 0
    for value in text.split(","):
        value = value.strip()
        if value == "?":
            values.append(np.nan)
            missing += 1
            continue
        if not value:
            raise TsFormatError(
                f"{where}: an empty value (',,' or a ',' at the end of a dimension); write "
                "the number, or '?' for a missing value under @missing true"
            )
        try:
            values.append(float(value))
        except ValueError:
            raise TsFormatError(
                f"{where}: {value[:20]!r} is not a number (values are separated by ',', "
                "dimensions by ':', the label comes last); fix the value"
            ) from None
    return np.array(values, dtype=np.float32), missing


class _Claims:
    """What the headers of ``ts`` (read up to ``@data``) say of its series, checked on
    each series as it is read; bad or contradictory headers raise :class:`TsFormatError`."""

    def __init__(self, ts: TsFile):
        self.ts = ts
        if self._flag("timestamps"):
            raise TsFormatError(
                f"{self._at('timestamps')}: @timeStamps true is not supported; write the "
                "values without time stamps"
            )
        self.missing = bool(self._flag("missing"))
        self.univariate = self._flag("univariate")
        self.equal_length = self._flag("equallength")
        self.dimensions = self._count("dimensions")
        self.series_length = self._count("serieslength")
        self.has_labels = bool(self._flag("classlabel") or self._flag("targetlabel"))
        if self._flag("classlabel"):
            ts.class_names = ts.header["classlabel"].split()[1:]
            if not ts.class_names:
                raise TsFormatError(
                    f"{self._at('classlabel')}: @classLabel true lists no classes; list "
                    "them (@classLabel true a b c)"
                )
        if self.univariate and self.dimensions not in (None, 1):
            raise TsFormatError(
                f"{self._at('dimensions')}: @dimensions {self.dimensions}, but "
                f"{ts.said('univariate')} means 1; fix one of them"
            )
        self.first: tuple[int, int, int] | None = None  # line, dimensions, length (>0)

    def _at(self, key: str) -> str:
        return f"{self.ts.path}:{self.ts.header_lines[key]}"

    def _written(self, key: str) -> str:
        return f"@{HEADER_NAMES[key]} {self.ts.header[key]}"

    def _flag(self, key: str) -> bool | None:
        """A ``true``/``false`` header (``@classLabel true a b`` counts as ``true``)."""
        if key not in self.ts.header:
            return None
        word = (self.ts.header[key].split() or [""])[0].lower()
        if word not in ("true", "false"):
            raise TsFormatError(f"{self._at(key)}: {self._written(key)} must be true or false")
        return word == "true"

    def _count(self, key: str) -> int | None:
        """A header that is a whole number above zero (``@dimensions 12``)."""
        if key not in self.ts.header:
            return None
        text = self.ts.header[key]
        if not text.isdigit() or int(text) == 0:
            raise TsFormatError(
                f"{self._at(key)}: {self._written(key)} must be a whole number above 0"
            )
        return int(text)

    def check(self, line: int, values: list[np.ndarray], missing: int, label: str | None) -> None:
        """Refuse (:class:`TsFormatError`) the series of ``line`` (its dimensions
        ``values``, count of ``?`` and label) where it contradicts the headers or the
        file's first series."""
        ts, where = self.ts, f"{self.ts.path}:{line}"
        if missing and not self.missing:
            said = "missing" in ts.header
            says = f"says {ts.said('missing')}" if said else "does not say @missing true"
            raise TsFormatError(
                f"{where}: a '?' (missing value), but the header {says}; fill in the "
                "value, or declare @missing true (series with '?' are then bad samples, "
                "left out by --data.on_bad_file skip)"
            )
        count = len(values)
        if self.dimensions is not None and count != self.dimensions:
            raise TsFormatError(
                f"{where}: {count} dimensions, but {ts.said('dimensions')}; fix the series "
                "or the header"
            )
        if self.univariate and count != 1:
            raise TsFormatError(
                f"{where}: {count} dimensions, but {ts.said('univariate')}; fix the series, "
                f"or write @univariate false and @dimensions {count}"
            )
        if self.first is not None and count != self.first[1]:
            raise TsFormatError(
                f"{where}: {count} dimensions, but the first series (line {self.first[0]}) "
                f"has {self.first[1]}; every series needs the same dimensions"
            )
        lengths = sorted({len(v) for v in values})
        if len(lengths) > 1:
            raise TsFormatError(
                f"{where}: the dimensions of one series have different lengths {lengths}; "
                "give each one value per time step"
            )
        # an empty series (length 0) is a bad sample, not a format error
        length, wanted = (lengths[0] if lengths else 0), self.series_length
        if length and wanted is not None and self.equal_length is False and length > wanted:
            raise TsFormatError(
                f"{where}: {length} time steps, more than {ts.said('serieslength')}, the "
                "longest with @equalLength false; fix the series or the header"
            )
        if length and wanted is not None and self.equal_length is not False and length != wanted:
            raise TsFormatError(
                f"{where}: {length} time steps, but {ts.said('serieslength')}; fix the "
                "series or the header"
            )
        if length and self.equal_length and self.first is not None and length != self.first[2]:
            raise TsFormatError(
                f"{where}: {length} time steps, but {ts.said('equallength')} and the first "
                f"series (line {self.first[0]}) has {self.first[2]}; fix the series, or "
                "write @equalLength false"
            )
        if length and self.first is None:
            self.first = (line, count, length)
        if self.has_labels and not label:
            raise TsFormatError(
                f"{where}: no label at the end of the line (':<label>'), but "
                f"{ts.said('classlabel' if 'classlabel' in ts.header else 'targetlabel')}; "
                "add it"
            )
        if ts.class_names and label not in ts.class_names:
            raise TsFormatError(
                f"{where}: label {label!r} is not one of the classes of "
                f"@classLabel (line {ts.header_lines['classlabel']}): "
                f"{' '.join(ts.class_names)}; fix the label, or add it to @classLabel"
            )


def read_ts(path: str | Path) -> TsFile:
    """Read a ``.ts`` file, checking every series against the headers' claims and the
    first series; :class:`TsFormatError` names file, line and what to fix."""
    path = Path(path)
    out = TsFile(path=path)
    claims: _Claims | None = None
    with path.open(encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.strip()
            where = f"{path}:{number}"
            if not line or line.startswith("#"):
                continue
            if claims is None:
                if not line.startswith("@"):
                    raise TsFormatError(
                        f"{where}: expected a '@' header or '@data', got {line[:40]!r}"
                    )
                words = line[1:].split(None, 1)
                key = words[0].lower() if words else ""
                if key == "data":
                    claims = _Claims(out)
                    continue
                out.header[key] = words[1].strip() if len(words) > 1 else ""
                out.header_lines[key] = number
                continue
            parts = line.split(":")
            label = parts.pop().strip() if claims.has_labels and len(parts) > 1 else None
            parsed = [_parse_values(p, where) for p in parts]
            values = [v for v, _ in parsed]
            missing = sum(n for _, n in parsed)
            claims.check(number, values, missing, label)
            out.series.append(np.stack(values) if values else np.zeros((0, 0), np.float32))
            out.labels.append(label)
            out.lines.append(number)
            out.missing.append(missing)
    if claims is None:
        raise TsFormatError(
            f"{path}: no '@data' line; a .ts file needs its '@' headers, then '@data', then "
            "one series a line"
        )
    return out


def series_problem(series: np.ndarray, missing: int = 0) -> str:
    """What makes a series ``(C, T)`` unusable (``""`` when nothing does); ``missing`` of
    its NaN values are a ``.ts`` file's declared ``?``, named apart."""
    if series.ndim != 2 or series.shape[1] == 0:
        return "zero length"
    nan, inf = int(np.isnan(series).sum()) - missing, int(np.isinf(series).sum())
    problems = [f"{n} {what} values" for n, what in ((nan, "NaN"), (inf, "inf")) if n]
    if missing:
        why = "the file declares @missing true and ssl-core does not impute them"
        problems.insert(0, f"{missing} missing values ('?'): {why}")
    return ", ".join(problems)


class TsArrays(ArrayData):
    """The series of one or more ``.ts`` files, each with an id (``file:line``) and a
    class, checked when loaded (:func:`read_ts`, labels, the same dimensions in every
    file); unusable series (NaN, inf, ``?``, zero length) are :meth:`problems`.

    Args:
        files: The ``.ts`` files, read in order.
        class_names: Class names in label order (default: the first file's
            ``@classLabel`` list; a file without labels gives targets ``-1``).
    """

    error = BadSeriesError

    def __init__(self, files: Sequence[str | Path], class_names: Sequence[str] | None = None):
        self.files = [Path(f) for f in files]
        for f in self.files:
            if not f.is_file():
                raise MissingInputError(f"No .ts file at {f.resolve()}")
        parsed = [read_ts(f) for f in self.files]
        self.class_names = list(class_names or (parsed[0].class_names if parsed else []))
        names_from = (
            "the class_names given" if class_names else f"{self.files[0].name}'s @classLabel"
        )
        lookup = {name: i for i, name in enumerate(self.class_names)}
        self._series: list[np.ndarray] = []
        self._missing: list[int] = []
        ids, targets = [], []
        first: tuple[str, int] | None = None  # id and dimensions of the first series
        for ts in parsed:
            targets_only = ts.header.get("targetlabel", "").lower().split()[:1] == ["true"]
            if targets_only and not ts.class_names:
                raise TsFormatError(
                    f"{ts.path}:{ts.header_lines['targetlabel']}: @targetLabel true "
                    "(regression targets) is not supported; a series dataset needs classes "
                    "(@classLabel true a b c)"
                )
            rows = zip(ts.series, ts.labels, ts.lines, ts.missing, strict=True)
            for array, label, line, missing in rows:
                where = f"{ts.path}:{line}"
                if label is not None and label not in lookup:
                    raise TsFormatError(
                        f"{where}: label {label!r} is not one of the classes of {names_from} "
                        f"({' '.join(self.class_names)}); use the same classes in every file"
                    )
                if first is None and array.size:
                    first = (f"{ts.path.name}:{line}", array.shape[0])
                if first is not None and array.size and array.shape[0] != first[1]:
                    raise TsFormatError(
                        f"{where}: {array.shape[0]} dimensions, but {first[0]} has "
                        f"{first[1]}; every file of a dataset needs the same dimensions"
                    )
                self._series.append(array)
                self._missing.append(missing)
                ids.append(f"{ts.path.name}:{line}")
                targets.append(-1 if label is None else lookup[label])
        super().__init__(ids, targets)
        self.channels = first[1] if first else 0

    @property
    def lengths(self) -> np.ndarray:
        return np.array([s.shape[-1] for s in self._series], dtype=np.int64)

    def get(self, i: int) -> np.ndarray:
        """Series ``i`` as a float32 array ``(C, T)``."""
        return self._series[i]

    def problems(self) -> dict[int, str]:
        found = map(series_problem, self._series, self._missing)
        return {i: problem for i, problem in enumerate(found) if problem}


class UEASeries(ArraySource):
    """A UEA/UCR archive dataset [0]: ``<name>_TRAIN.ts`` (training; a series without a
    label is unlabeled) and ``<name>_TEST.ts`` (the test set) in the data root.

    Args:
        dataset: The files' prefix (``JapaneseVowels`` [1]: 12 channels, lengths 7-29).
        class_names: Class names in label order (default: the training file's
            ``@classLabel`` list).
    """

    modality = Series
    #: ``evaluate --splits`` also fits MiniRocket on each split's labels
    evaluators = ("ssl_core.series.minirocket:MiniRocketProbes",)

    def __init__(self, dataset: str = "JapaneseVowels", class_names: list[str] | None = None):
        super().__init__(class_names)
        self.name, self.dataset = dataset, dataset
        self.layout = f"{dataset}_TRAIN.ts and {dataset}_TEST.ts"

    def exists(self, root: Path) -> bool:
        return (Path(root) / f"{self.dataset}_TRAIN.ts").is_file()

    def open(self, root: Path) -> TsArrays:
        train = Path(root) / f"{self.dataset}_TRAIN.ts"
        test = Path(root) / f"{self.dataset}_TEST.ts"
        files = [train] + ([test] if test.is_file() else [])
        data = TsArrays(files, class_names=self.class_names or None)
        self.class_names, self.channels = tuple(data.class_names), data.channels
        return data

    def split_of(self, data: ArrayData) -> list[str | None]:
        train = f"{self.dataset}_TRAIN.ts:"
        return ["train" if i.startswith(train) else "test" for i in data.ids]
