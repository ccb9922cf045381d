"""The .ts reader and the UEA source, on small .ts text written here (and the real
JapaneseVowels files when ../shared/data holds them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ssl_core.data.datamodule import describe_bad
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
    assert [s.shape for s in ts.series] == [(2, 3), (2, 2), (2, 4)]
    assert all(s.dtype == np.float32 for s in ts.series)
    np.testing.assert_array_equal(ts.series[1], np.array([[0.5, -1.5], [0.2, 3.0]], np.float32))


def test_source_ids_targets_and_bad_samples(tmp_path):
    bad = "1,?,3:4,5,6:a\n1,inf:2,3:b\n::c\n"
    src = TsArrays([write(tmp_path / "Fake_TRAIN.ts", HEADER + DATA + bad)])
    assert len(src) == 6
    assert src.ids[:3] == ["Fake_TRAIN.ts:11", "Fake_TRAIN.ts:12", "Fake_TRAIN.ts:14"]
    assert src.targets.tolist() == [1, 0, 2, 0, 1, 2]
    assert src.lengths.tolist()[:3] == [3, 2, 4]
    assert src.channels == 2
    assert src.index("Fake_TRAIN.ts:14") == 2
    np.testing.assert_array_equal(src.read(2)[1], [11, 12, 13, 14])
    found = src.bad_samples()
    assert found == {
        "Fake_TRAIN.ts:15": "1 NaN values",
        "Fake_TRAIN.ts:16": "1 inf values",
        "Fake_TRAIN.ts:17": "zero length",
    }
    with pytest.raises(BadSeriesError, match=r"Fake_TRAIN.ts:15: 1 NaN values"):
        src.read(3)
    line = describe_bad(found, "series")
    assert "\n" not in line and line.startswith("3 bad series: Fake_TRAIN.ts:15 (1 NaN values)")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("1,2:3,4:5,6:a\n", "3 channels, expected 2"),
        ("1,2:3:a\n", "different lengths"),
        ("1,x:3,4:a\n", "Fake_TRAIN.ts:11"),
        ("1,2:3,4:zz\n", "label 'zz' not in"),
    ],
)
def test_format_errors_name_the_line(tmp_path, data, message):
    path = write(tmp_path / "Fake_TRAIN.ts", HEADER + data)
    with pytest.raises(TsFormatError, match=message):
        TsArrays([path])


def test_no_data_line_and_timestamps(tmp_path):
    with pytest.raises(TsFormatError, match="no '@data'"):
        read_ts(write(tmp_path / "a.ts", "@dimensions 1\n"))
    with pytest.raises(TsFormatError, match="timeStamps"):
        read_ts(write(tmp_path / "b.ts", "@timeStamps true\n@data\n"))


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
