"""UEA/UCR .ts reader and writer: the format, round trips, and every malformed case."""

import numpy as np
import pytest

from rnnkit.data.sequences import SequenceDataset, SequenceFileError
from rnnkit.data.sequences.ts import read_ts, write_ts

HEADER = """\
@problemName Example
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
"""


def write(tmp_path, text, name="x.ts"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_cases_unequal_lengths_missing_values_and_header_class_order(tmp_path):
    path = write(tmp_path, "# a comment\n\n" + HEADER + "1.0,2.0,3.0:4.0,5.0,?:up\n"
                 "\n# between cases\n0.5, 2.5e-1:1.5,NaN:down\n1,2,3,4:1:down\n")
    ds = read_ts(path)
    assert ds.task == "classification"
    assert ds.class_names == ["up", "down"]  # header order, not sorted
    assert ds.targets.tolist() == [0, 1, 1]
    assert ds.targets.dtype == np.int64
    assert ds.lengths.tolist() == [3, 2, 4]
    assert ds.num_features == 2
    np.testing.assert_array_equal(ds.sequences[0], [[1, 4], [2, 5], [3, np.nan]])
    np.testing.assert_array_equal(ds.sequences[1], [[0.5, 1.5], [0.25, np.nan]])
    # the shorter dimension of a case is padded with NaN at the end
    np.testing.assert_array_equal(ds.sequences[2][:, 1], [1, np.nan, np.nan, np.nan])
    assert all(s.dtype == np.float32 for s in ds.sequences)
    assert ds.source == str(path)


def test_header_keys_are_case_insensitive_and_univariate_needs_no_dimensions(tmp_path):
    path = write(tmp_path, "@PROBLEMNAME x\n@UNIVARIATE TRUE\n@EqualLength true\n"
                 "@SERIESLENGTH 3\n@CLASSLABEL True 1 2\n@DATA\n1,2,3:2\n4,5,6:1\n")
    ds = read_ts(path)
    assert ds.class_names == ["1", "2"]
    assert ds.targets.tolist() == [1, 0]
    assert ds.padded()[0].shape == (2, 3, 1)


def test_regression_target_and_timestamps_with_colons_in_dates(tmp_path):
    path = write(tmp_path, "@problemName t\n@timeStamps true\n@classLabel false\n"
                 "@targetLabel true\n@data\n"
                 "(2007-01-01 00:00:00,1.5),(2007-01-01 01:00:00,?):(1,2), (2,3):0.25\n"
                 "(0,7):(0,8):-1.75\n")
    ds = read_ts(path)
    assert ds.task == "regression" and ds.class_names is None
    assert ds.targets.dtype == np.float32
    np.testing.assert_allclose(ds.targets, [0.25, -1.75])
    np.testing.assert_array_equal(ds.sequences[0], [[1.5, 2], [np.nan, 3]])
    np.testing.assert_array_equal(ds.sequences[1], [[7, 8]])


def test_unlabelled_file_has_no_targets(tmp_path):
    ds = read_ts(write(tmp_path, "@classLabel false\n@data\n1,2\n3,4,5\n"))
    assert ds.targets is None and not ds.labelled
    assert ds.lengths.tolist() == [2, 3]


def test_class_names_override_maps_labels_into_the_given_order(tmp_path):
    path = write(tmp_path, HEADER + "1:2:up\n3:4:down\n")
    ds = read_ts(path, class_names=["down", "up", "sideways"])
    assert ds.targets.tolist() == [1, 0]
    assert ds.num_classes == 3
    with pytest.raises(SequenceFileError, match="not one of the classes") as e:
        read_ts(path, class_names=["up"])
    assert e.value.line == HEADER.count("\n") + 2


def test_task_contradicting_the_header_is_an_error(tmp_path):
    with pytest.raises(SequenceFileError, match="classification"):
        read_ts(write(tmp_path, HEADER + "1:2:up\n"), task="regression")


@pytest.mark.parametrize("labelled", [True, False])
def test_write_then_read_round_trip(tmp_path, labelled):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (4, 1, 7)]
    seqs[2][3, 1] = np.nan
    ds = SequenceDataset(seqs, np.array([2, 0, 1]) if labelled else None,
                         class_names=["a", "b", "c"] if labelled else None)
    write_ts(ds, tmp_path / "r.ts")
    back = read_ts(tmp_path / "r.ts")
    assert back.class_names == ds.class_names and back.ids is None  # .ts files hold no ids
    for a, b in zip(ds.sequences, back.sequences, strict=True):
        np.testing.assert_array_equal(a, b)
    if labelled:
        assert back.targets.tolist() == [2, 0, 1]
    else:
        assert back.targets is None


def test_regression_round_trip_keeps_float32_targets_exactly(tmp_path):
    t = np.array([0.1, 2.0, -3.5], dtype=np.float32)
    ds = SequenceDataset([np.ones((5, 1)), np.zeros((5, 1)), np.ones((5, 1))], t,
                         task="regression")
    write_ts(ds, tmp_path / "r.ts")
    text = (tmp_path / "r.ts").read_text()
    assert "@equalLength true" in text and "@seriesLength 5" in text
    back = read_ts(tmp_path / "r.ts")
    assert back.task == "regression"
    np.testing.assert_array_equal(back.targets, t)


def test_write_refuses_class_names_the_header_cannot_hold(tmp_path):
    ds = SequenceDataset([np.ones((2, 1))], np.array([0]), class_names=["two words"])
    with pytest.raises(ValueError, match="cannot be written"):
        write_ts(ds, tmp_path / "bad.ts")


H2 = "@dimensions 2\n@classLabel true a b\n@data\n"  # the data starts on line 4

MALFORMED = [
    # (text, line, fragment of the reason)
    (H2 + "1,2:3,4:a\n1,2:a\n", 5, "found 1 dimensions; expected 2 (from @dimensions 2)"),
    ("@classLabel true a\n@data\n1:2:a\n1:2:3:a\n", 4, "expected 2 (from the first case (line 3))"),
    ("@univariate true\n@classLabel true a\n@data\n1,2:a\n1,2:3,4:a\n", 5, "@univariate true"),
    (H2 + "1,2:3,4:a\n1,x:3,4:b\n", 5, "dimension 1, value 2: 'x' is not a number"),
    (H2 + "1,2:3,,4:a\n", 4, "dimension 2, value 2 is empty"),
    (H2 + "1,2:3,4,:a\n", 4, "dimension 2, value 3 is empty"),
    (H2 + "1,2:3,inf:a\n", 4, "infinite"),
    (H2 + "1,2:3,4:a\n1,2:3,4:c\n", 5, "class label 'c' is not declared in @classLabel (a b)"),
    (H2 + "1,2,3,4\n", 4, "no label"),
    ("@targetLabel true\n@data\n1,2:oops\n", 3, "regression target 'oops' is not a number"),
    ("@problemName x\n@classLabel true a\n1,2:a\n", 3, "the header must end with @data"),
    ("@problemName x\n@classLabel true a\n\n", 2, "no @data line"),
    ("@equalLength true\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n", 5,
     "series length 2 differs from 3 (line 4) but @equalLength is true"),
    ("@equalLength true\n@classLabel true a\n@data\n1,2,3:4,5:a\n", 4,
     "dimension lengths [3, 2] differ but @equalLength is true"),
    ("@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n1,2,3,4:a\n", 5,
     "do not match @seriesLength 3"),
    ("@equalLength true\n@seriesLength 3\n@classLabel false\n@data\n1,2\n", 5,
     "do not match @seriesLength 3"),
    ("@problemName x\n@colour blue\n@data\n", 2, "unknown header '@colour'"),
    ("@missing maybe\n@data\n1\n", 1, "@missing expects true or false, found 'maybe'"),
    ("@dimensions two\n@data\n1\n", 1, "@dimensions expects a positive whole number"),
    ("@classLabel true\n@data\n1:a\n", 1, "@classLabel true but no labels listed"),
    ("@classLabel true a a\n@data\n1:a\n", 1, "lists a label twice"),
    ("@classLabel true a\n@targetLabel true\n@data\n1:a\n", 2, "one kind of label"),
    ("@univariate true\n@dimensions 3\n@data\n1\n", 2, "@univariate true but @dimensions 3"),
    ("@missing true\n@MISSING false\n@data\n", 2, "@missing repeats line 1"),
    (H2 + "1,2:3,4:a\n@classLabel true a\n", 5, "header '@classLabel' after @data"),
    ("# only a header\n@classLabel true a\n@data\n\n# nothing\n", 3, "no cases after @data"),
    (H2 + ":3,4:a\n", None, None),  # an empty dimension is allowed (padded with NaN): no error
    (H2 + ":  :a\n", 4, "the case holds no values"),
    ("@timeStamps true\n@classLabel true a\n@data\n(1,2),3:a\n", 4, "(timestamp,value) tuples"),
    ("@timeStamps true\n@classLabel true a\n@data\n(1):a\n", 4, "is not (timestamp,value)"),
    ("@classLabel true a\n@data\n(1,2),(2,3):a\n", 3, "declare @timeStamps true"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), MALFORMED)
def test_malformed_files_name_file_line_and_reason(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    if fragment is None:
        assert np.isnan(read_ts(path).sequences[0][:, 0]).all()
        return
    with pytest.raises(SequenceFileError) as e:
        read_ts(path)
    assert isinstance(e.value, ValueError)
    assert e.value.line == line
    assert fragment in e.value.reason
    assert str(e.value).startswith(f"{path}, line {line}: ")


@pytest.mark.parametrize("text", ["", "\n\n# just a comment\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(SequenceFileError, match="empty file") as e:
        read_ts(path)
    assert e.value.line is None and str(path) in str(e.value)


def test_fast_and_slow_parsing_agree(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.standard_normal(50)
    body = ",".join(f"{v:.7g}" for v in values)
    odd = " 1e-3 , -2.5E+2 ,?, nan,NaN , 7"
    ds = read_ts(write(tmp_path, f"@classLabel false\n@data\n{body}:{odd}\n"))
    x = ds.sequences[0]
    np.testing.assert_allclose(x[:, 0], values.astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(x[:6, 1], np.array([1e-3, -250, np.nan, np.nan, np.nan, 7],
                                                     dtype=np.float32))


def test_text_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.ts"
    cases = "1,2:3,4:up\n" * 5000  # the bad byte lies far past the first read buffer
    path.write_bytes((HEADER + cases).encode() + b"1,2:3,4:\xfcp\n")
    with pytest.raises(SequenceFileError) as e:
        read_ts(path)
    assert e.value.line == HEADER.count("\n") + 5001
    assert str(e.value) == (f"{path}, line {e.value.line}: expected UTF-8 text, found the byte "
                            "0xfc: the file is not UTF-8 text; save it as UTF-8")
