"""The .ts reader and the UEA source, on small .ts text written here (and the real
JapaneseVowels files when ../shared/data holds them): values, labels and line ids; every
header claim checked at load, each break one line naming file:line and what to fix;
missing values ('?' under @missing true) as bad samples that skip leaves out."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ssl_core.data import BadDataError, ClassificationDataModule
from ssl_core.data.datamodule import describe_bad
from ssl_core.errors import InputError
from ssl_core.series.fake import write_fake_ts
from ssl_core.series.ts import BadSeriesError, TsArrays, TsFormatError, UEASeries, read_ts

HEADER = """# A fake dataset
#
@problemName Fake
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b c
@data
"""

DATA = """1,2,3:4,5,6:b
0.5,-1.5:2e-1,3:a

7,8,9,10:11,12,13,14:c
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_ts_values_labels_lines(tmp_path):
    ts = read_ts(write(tmp_path / "Fake_TRAIN.ts", HEADER + DATA))
    assert ts.class_names == ["a", "b", "c"]
    assert ts.header["dimensions"] == "2"
    assert ts.labels == ["b", "a", "c"]
    assert ts.lines == [11, 12, 14]  # 1-based, blank line skipped
    assert ts.missing == [0, 0, 0]
    assert [s.shape for s in ts.series] == [(2, 3), (2, 2), (2, 4)]
    assert all(s.dtype == np.float32 for s in ts.series)
    np.testing.assert_array_equal(ts.series[1], np.array([[0.5, -1.5], [0.2, 3.0]], np.float32))


def test_source_ids_targets_and_bad_samples(tmp_path):
    bad = "1,?,3:4,5,6:a\n1,inf:2,3:b\n::c\n1,nan:?,?:a\n"
    src = TsArrays([write(tmp_path / "Fake_TRAIN.ts", HEADER + DATA + bad)])
    assert len(src) == 7
    assert src.ids[:3] == ["Fake_TRAIN.ts:11", "Fake_TRAIN.ts:12", "Fake_TRAIN.ts:14"]
    assert src.targets.tolist() == [1, 0, 2, 0, 1, 2, 0]
    assert src.lengths.tolist()[:3] == [3, 2, 4]
    assert src.channels == 2
    assert src.index("Fake_TRAIN.ts:14") == 2
    np.testing.assert_array_equal(src.read(2)[1], [11, 12, 13, 14])
    missing = (
        "missing values ('?'): the file declares @missing true and ssl-core does not impute them"
    )
    found = src.bad_samples()
    assert found == {
        "Fake_TRAIN.ts:15": f"1 {missing}",
        "Fake_TRAIN.ts:16": "1 inf values",
        "Fake_TRAIN.ts:17": "zero length",
        "Fake_TRAIN.ts:18": f"2 {missing}, 1 NaN values",
    }
    with pytest.raises(BadSeriesError, match=r"Fake_TRAIN.ts:15: 1 missing values \('\?'\)"):
        src.read(3)
    line = describe_bad(found, "series")
    assert "\n" not in line and line.startswith(f"4 bad series: Fake_TRAIN.ts:15 (1 {missing})")


def test_missing_values_are_left_out_by_skip_and_named_by_error(tmp_path, monkeypatch):
    """A '?' series under @missing true is a bad sample of the source, found at setup:
    ``error`` ends with one line naming it and why, ``skip`` leaves it out."""
    monkeypatch.setenv("SSL_CORE_CACHE", str(tmp_path / "cache"))
    path = write_fake_ts(tmp_path / "Fake_TRAIN.ts", ["a", "b"], 10, 2, lengths=(5, 8))
    text = path.read_text().replace("@missing false", "@missing true")
    write(path, text + "1,?,3:4,5,6:a\n")  # line 30: 9 header lines, 20 series
    assert UEASeries("Fake").bad_samples(tmp_path) == {
        "Fake_TRAIN.ts:30": "1 missing values ('?'): the file declares @missing true and "
        "ssl-core does not impute them"
    }
    with pytest.raises(BadDataError) as error:
        ClassificationDataModule(source=UEASeries("Fake"), root=str(tmp_path)).setup("fit")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("1 bad series: Fake_TRAIN.ts:30 (1 missing values ('?')")
    assert "does not impute" in message and "--data.on_bad_file skip" in message
    dm = ClassificationDataModule(source=UEASeries("Fake"), root=str(tmp_path), on_bad_file="skip")
    with pytest.warns(UserWarning, match=r"1 bad series: Fake_TRAIN.ts:30 .*left out"):
        dm.setup("fit")
    kept = [p for p, _ in dm.val_samples + dm.pool_samples]
    assert len(kept) == 20 and "Fake_TRAIN.ts:30" not in kept


# (file text, line of the error, what the message says after "file:line: ")
CLAIMS_BROKEN = [
    (
        "@dimensions 2\n@data\n1,2:3,4\n1,2:3,4:5,6\n",
        4,
        r"3 dimensions, but @dimensions 2 \(line 1\); fix the series or the header$",
    ),
    (
        "@data\n1,2:3,4\n1,2\n",
        3,
        r"1 dimensions, but the first series \(line 2\) has 2; every series needs the same",
    ),
    (
        "@univariate true\n@data\n1,2,3\n1,2:3,4\n",
        4,
        r"2 dimensions, but @univariate true \(line 1\); fix the series, or write "
        r"@univariate false and @dimensions 2$",
    ),
    (
        "@univariate true\n@dimensions 3\n@data\n",
        2,
        r"@dimensions 3, but @univariate true \(line 1\) means 1; fix one of them$",
    ),
    (
        "@equalLength true\n@data\n1,2,3\n4,5,6\n7,8\n",
        5,
        r"2 time steps, but @equalLength true \(line 1\) and the first series \(line 3\) "
        r"has 3; fix the series, or write @equalLength false$",
    ),
    (
        "@equalLength true\n@seriesLength 3\n@data\n1,2,3\n1,2,3,4\n",
        5,
        r"4 time steps, but @seriesLength 3 \(line 2\); fix the series or the header$",
    ),
    (
        "@seriesLength 3\n@data\n1,2\n",  # no @equalLength: every series N long
        3,
        r"2 time steps, but @seriesLength 3 \(line 1\)",
    ),
    (
        "@equalLength false\n@seriesLength 3\n@data\n1,2\n1,2,3,4\n",
        5,
        r"4 time steps, more than @seriesLength 3 \(line 2\), the longest with "
        r"@equalLength false; fix the series or the header$",
    ),
    (
        "@classLabel true a b\n@data\n1,2:a\n3,4:c\n",
        4,
        r"label 'c' is not one of the classes of @classLabel \(line 1\): a b; fix the "
        r"label, or add it to @classLabel$",
    ),
    (
        "@classLabel true a b\n@data\n1,2\n",
        3,
        r"no label at the end of the line \(':<label>'\), but @classLabel true a b "
        r"\(line 1\); add it$",
    ),
    (
        "@missing false\n@data\n1,2,3\n1,?,3\n",
        4,
        r"a '\?' \(missing value\), but the header says @missing false \(line 1\); fill in "
        r"the value, or declare @missing true \(series with '\?' are then bad samples",
    ),
    (
        "@data\n1,?,3\n",
        2,
        r"a '\?' \(missing value\), but the header does not say @missing true; fill in",
    ),
    ("@data\n1,x\n", 2, r"'x' is not a number .*; fix the value$"),
    ("@data\n1,,3\n", 2, r"an empty value \(',,' or a ',' at the end of a dimension\)"),
    ("@data\n1,2:3\n", 2, r"the dimensions of one series have different lengths \[1, 2\]"),
    ("@equalLength yes\n@data\n", 1, r"^@equalLength yes must be true or false$"),
    ("@dimensions two\n@data\n", 1, r"^@dimensions two must be a whole number above 0$"),
    ("@classLabel true\n@data\n", 1, r"@classLabel true lists no classes; list them"),
    ("@timeStamps true\n@data\n", 1, r"@timeStamps true is not supported"),
    ("# a comment\n1,2\n", 2, r"expected a '@' header or '@data', got '1,2'$"),
]


@pytest.mark.parametrize(("text", "line", "message"), CLAIMS_BROKEN)
def test_a_broken_claim_or_format_is_one_line_naming_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path / "Fake_TRAIN.ts", text)
    with pytest.raises(TsFormatError) as error:
        TsArrays([path])
    assert isinstance(error.value, InputError)  # the CLI ends on it with this one line
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}: ")
    assert re.search(message, text.removeprefix(f"{path}:{line}: ")), text


def test_files_of_one_dataset_must_agree(tmp_path):
    """Checks across the files, at load: the test file's labels and dimensions."""
    write(tmp_path / "Fake_TRAIN.ts", HEADER + DATA)
    test = write(tmp_path / "Fake_TEST.ts", HEADER.replace("a b c", "a b c d") + "1:2:d\n")
    with pytest.raises(TsFormatError) as error:
        UEASeries("Fake").list_samples(tmp_path, "train")
    assert str(error.value) == (
        f"{test}:11: label 'd' is not one of the classes of Fake_TRAIN.ts's @classLabel "
        "(a b c); use the same classes in every file"
    )
    write(test, HEADER.replace("@dimensions 2", "@dimensions 3") + "1:2:3:a\n")
    with pytest.raises(TsFormatError) as error:
        UEASeries("Fake").list_samples(tmp_path, "train")
    assert str(error.value) == (
        f"{test}:11: 3 dimensions, but Fake_TRAIN.ts:11 has 2; every file of a dataset "
        "needs the same dimensions"
    )
    regression = write(tmp_path / "R.ts", "@classLabel false\n@targetLabel true\n@data\n1,2:0.5\n")
    with pytest.raises(TsFormatError, match=rf"^{re.escape(str(regression))}:2: @targetLabel true"):
        TsArrays([regression])


def test_no_data_line_and_missing_file(tmp_path):
    with pytest.raises(TsFormatError, match="no '@data' line; a .ts file needs"):
        read_ts(write(tmp_path / "a.ts", "@dimensions 1\n"))
    with pytest.raises(InputError, match="No .ts file at"):
        TsArrays([tmp_path / "absent.ts"])


def test_unlabeled_file(tmp_path):
    path = write(tmp_path / "U.ts", "@dimensions 1\n@classLabel false\n@data\n1,2,3\n4,5\n")
    src = TsArrays([path])
    assert src.targets.tolist() == [-1, -1]
    assert src.lengths.tolist() == [3, 2]


def test_uea_source_test_split_uses_training_class_order(tmp_path):
    write(tmp_path / "Fake_TRAIN.ts", HEADER + DATA)
    write(tmp_path / "Fake_TEST.ts", HEADER.replace("a b c", "c b a") + "1:2:a\n")
    source = UEASeries("Fake")
    assert source.list_samples(tmp_path, "test") == [("Fake_TEST.ts:11", 0)]
    assert source.class_names == ("a", "b", "c")
    assert [t for _, t in source.list_samples(tmp_path, "train")] == [1, 0, 2]
    assert UEASeries("Other").list_samples(tmp_path, "train") == []
    with pytest.raises(Exception, match="Other_TRAIN.ts"):
        UEASeries("Other").training_samples(tmp_path)


VOWELS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "uea-japanesevowels"


@pytest.mark.skipif(
    not (VOWELS / "JapaneseVowels_TRAIN.ts").is_file(),
    reason=f"real JapaneseVowels not found at {VOWELS.resolve()} (../shared/data absent)",
)
def test_real_japanese_vowels():
    source = UEASeries()
    train, test = source.list_samples(VOWELS, "train"), source.list_samples(VOWELS, "test")
    assert (len(train), len(test)) == (270, 370)
    data = source.load(VOWELS)
    assert data.channels == source.channels == 12
    assert source.class_names == tuple(str(i) for i in range(1, 10))
    assert (data.lengths.min(), data.lengths.max()) == (7, 29)
    assert np.bincount([t for _, t in train]).tolist() == [30] * 9
    assert train[0][0] == "JapaneseVowels_TRAIN.ts:16"
    assert data.bad_samples() == {}
    assert source.read(VOWELS, train[0][0]).shape == (12, data.lengths[0])
