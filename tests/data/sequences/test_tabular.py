"""CSV long and wide form: detection, ordering, labels, missing values, every malformed case,
the separator, text that is not UTF-8, and spreadsheet-safe cells for the CSVs rnnkit writes."""

import csv
import io

import numpy as np
import pytest

from rnnkit.data.sequences import SequenceFileError, read_sequences
from rnnkit.data.sequences.tabular import (
    read_csv,
    read_csv_long,
    read_csv_wide,
    sniff_delimiter,
    spreadsheet_safe,
)


def write(tmp_path, text, name="x.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


LONG = """\
id,time,temp,humidity,label
b,1,11.0,0.6,cold
a,0,20.0,0.5,warm
a,2,22.0,,warm
b,0,10.0,0.7,cold
a,1,21.0,0.4,warm
c,0,5.0,?,cold
"""


def test_long_form_detects_columns_groups_by_id_and_orders_by_time(tmp_path):
    ds = read_csv_long(write(tmp_path, LONG))
    assert ds.feature_names == ["temp", "humidity"]
    assert ds.class_names == ["cold", "warm"]  # sorted
    assert ds.targets.tolist() == [0, 1, 0]  # b, a, c: order of first appearance
    assert ds.lengths.tolist() == [2, 3, 1]
    np.testing.assert_array_equal(ds.sequences[0], np.array([[10, 0.7], [11, 0.6]], np.float32))
    np.testing.assert_array_equal(ds.sequences[1][:, 0], [20, 21, 22])
    assert np.isnan(ds.sequences[1][2, 1]) and np.isnan(ds.sequences[2][0, 1])


def test_long_form_ids_name_the_sequences_in_their_order(tmp_path):
    ds = read_csv_long(write(tmp_path, LONG))
    assert ds.ids == ["b", "a", "c"] and ds.lengths.tolist() == [2, 3, 1]
    text = "Series_ID;v;label\n x ;1;p\n7;2;q\n\nx;3;p\n10;4;q\n"  # ids stripped, rows apart
    ds = read_sequences(write(tmp_path, text))
    assert ds.ids == ["x", "7", "10"] and ds.targets.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(ds.sequences[0][:, 0], [1, 3])
    assert ds.subset([2]).ids == ["10"]
    assert read_csv_wide(write(tmp_path, "a,1,2\nb,3,4\n")).ids is None


def test_long_form_with_named_columns_and_chosen_features(tmp_path):
    text = "who,when,a,b,c,outcome\nx,2,1,2,3,0.5\nx,1,4,5,6,0.5\ny,1,7,8,9,1.25\n"
    ds = read_csv_long(write(tmp_path, text), id_col="who", time_col="when", label_col="outcome",
                       feature_cols=["c", "a"])
    assert ds.task == "regression"
    np.testing.assert_allclose(ds.targets, [0.5, 1.25])
    np.testing.assert_array_equal(ds.sequences[0], [[6, 4], [3, 1]])


def test_long_form_without_time_keeps_file_order_and_unlabelled(tmp_path):
    ds = read_csv_long(write(tmp_path, "series_id,v\ns,3\nt,1\ns,2\n"))
    assert ds.targets is None
    np.testing.assert_array_equal(ds.sequences[0][:, 0], [3, 2])


def test_long_form_orders_string_times_and_numeric_class_labels(tmp_path):
    text = ("id,date,v,class\n1,2024-01-03,3,10\n1,2024-01-01,1,10\n1,2024-01-02,2,10\n"
            "2,2024-01-01,5,2\n")
    ds = read_csv_long(write(tmp_path, text))
    np.testing.assert_array_equal(ds.sequences[0][:, 0], [1, 2, 3])
    assert ds.class_names == ["2", "10"]  # numeric order, names kept as written
    assert ds.targets.tolist() == [1, 0]
    assert read_csv_long(write(tmp_path, text), task="regression").targets.dtype == np.float32


@pytest.mark.parametrize(("text", "kwargs", "line", "fragment"), [
    ("id,t,v,label\na,0,1,x\nb,0,1,y\na,1,2,y\n", {"labels": "sequence"}, 4,
     "sequence 'a' changes label from 'x' (line 2) to 'y'"),
    ("id,series_id,v\na,a,1\n", {}, 1, "ambiguous id column: ['id', 'series_id']"),
    ("id,label,y,v\na,1,2,3\n", {}, 1, "ambiguous label column"),
    ("name,v\na,1\n", {}, 1, "no sequence id column"),
    ("id,v,note,label\na,1,ok,x\n", {}, 2, "column 'note': 'ok' is not a number; features"),
    ("id,v\na,1\na,2,3\n", {}, 3, "3 fields; the header has 2"),
    ("id,time,v\na,0,1\na,1,2\na,0,3\n", {}, 4, "sequence 'a' has two rows at time '0'"),
    ("id,v,label\na,1,x\nb,2,\n", {}, 3, "missing label"),
    ("id,v\na,1\n,2\n", {}, 3, "empty id"),
    ("id,time,v\na,0,1\na,,2\n", {}, 3, "missing time"),
    ("id,v\na,1\na,inf\n", {}, 3, "infinite"),
    ("id,v\na,1\n", {"label_col": "lab"}, 1, "no column 'lab' (label_col)"),
    ("id,v,label\na,1,x\n", {"feature_cols": ["v", "label"]}, None, "cannot be features"),
    ("id,v\n", {}, 1, "no data rows after the header"),
    ("id,v,v\na,1,2\n", {}, 1, "repeats a column name"),
    ("id,v,label\na,1,x\n", {"task": "regression"}, 2, "regression target 'x' is not a number"),
    ("id,v,label\na,1,x\n", {"class_names": ["y"]}, 2, "label 'x' is not one of the classes"),
])
def test_long_form_errors_name_the_line(tmp_path, text, kwargs, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(SequenceFileError) as e:
        read_csv_long(path, **kwargs)
    assert e.value.line == line
    assert fragment in e.value.reason
    assert str(e.value).startswith(str(path))


def test_empty_csv(tmp_path):
    with pytest.raises(SequenceFileError, match="empty file"):
        read_csv_long(write(tmp_path, "\n \n"))


def test_wide_form_label_first_unequal_lengths_and_missing_values(tmp_path):
    ds = read_csv_wide(write(tmp_path, "b,1,2,3\na,4,?,6,7\nb,8,,,\n\nb,9,,10\n"))
    assert ds.class_names == ["a", "b"]
    assert ds.targets.tolist() == [1, 0, 1, 1]
    assert ds.lengths.tolist() == [3, 4, 1, 3]
    assert ds.num_features == 1 and ds.feature_names == ["value"]
    np.testing.assert_array_equal(ds.sequences[1][:, 0], [4, np.nan, 6, 7])
    np.testing.assert_array_equal(ds.sequences[3][:, 0], [9, np.nan, 10])


def test_wide_form_label_last_named_and_none(tmp_path):
    ds = read_csv_wide(write(tmp_path, "1,2,0.5,,\n3,1.5\n"), label_col="last")
    assert ds.task == "regression" and ds.lengths.tolist() == [2, 1]
    np.testing.assert_allclose(ds.targets, [0.5, 1.5])
    ds = read_csv_wide(write(tmp_path, "t0,t1,kind\n1,2,x\n3,4,y\n"), label_col="kind")
    assert ds.class_names == ["x", "y"] and ds.lengths.tolist() == [2, 2]
    ds = read_csv_wide(write(tmp_path, "1,2\n3\n"), label_col=None)
    assert ds.targets is None and ds.lengths.tolist() == [2, 1]


def test_wide_form_detects_a_header_row(tmp_path):
    ds = read_csv_wide(write(tmp_path, "label,t0,t1\na,1,2\nb,3,4\n"))
    assert len(ds) == 2 and ds.class_names == ["a", "b"]
    ds = read_csv_wide(write(tmp_path, "a,1,2\nb,3,4\n"), header=False)
    assert len(ds) == 2
    ds = read_csv_wide(write(tmp_path, "Label,0,1,2\na,1,2,3\n"))  # numeric column names
    assert len(ds) == 1 and ds.class_names == ["a"]
    ds = read_csv_wide(write(tmp_path, "0,1,target\n1,2,x\n"), label_col="last")
    assert len(ds) == 1 and ds.class_names == ["x"]


@pytest.mark.parametrize(("text", "kwargs", "line", "fragment"), [
    ("a,1,2\nb,1,x\n", {}, 2, "value: 'x' is not a number"),
    ("a,1,2\nb,,\n", {}, 2, "the row holds no values"),
    (",1,2\n", {}, 1, "missing label"),
    ("1,2\n", {"label_col": "kind", "header": False}, None, "needs a header row"),
    ("1,2\n", {"label_col": "kind"}, 1, "no column 'kind'"),
    ("a,b\n1,2\n", {"label_col": "kind", "header": True}, 1, "no column 'kind'"),
    ("1,2\n3,4,5,6\n", {"label_col": 3}, 1, "no label cell"),
])
def test_wide_form_errors_name_the_line(tmp_path, text, kwargs, line, fragment):
    with pytest.raises(SequenceFileError) as e:
        read_csv_wide(write(tmp_path, text), **kwargs)
    assert e.value.line == line and fragment in e.value.reason


def test_read_csv_detects_the_layout_and_read_sequences_dispatches(tmp_path):
    long_path = write(tmp_path, LONG, "long.csv")
    wide_path = write(tmp_path, "a,1,2\nb,3\n", "wide.csv")
    assert read_csv(long_path).num_features == 2
    assert read_csv(wide_path).lengths.tolist() == [2, 1]
    assert read_sequences(long_path).lengths.tolist() == [2, 3, 1]
    assert read_sequences(wide_path, format="csv-wide").num_features == 1
    tsv = write(tmp_path, "1\t0.5\t0.25\n2\t1\n", "ucr.tsv")
    ds = read_sequences(tsv)
    assert ds.class_names == ["1", "2"] and ds.lengths.tolist() == [2, 1]
    semi = write(tmp_path, "id;v;label\na;1;x\n", "semi.txt")
    assert read_sequences(semi, format="csv", delimiter=";").class_names == ["x"]
    with pytest.raises(ValueError, match="layout"):
        read_csv(long_path, layout="tall")


@pytest.mark.parametrize("reader", [read_csv, read_csv_long, read_sequences])
def test_text_that_is_not_utf8_names_the_line(tmp_path, reader):
    path = tmp_path / "latin1.csv"
    path.write_bytes(LONG.encode() + b"d,0,1.0,2.0,ti\xe8de\n")
    with pytest.raises(SequenceFileError, match="latin1.csv, line 8: expected UTF-8 text, found "
                       "the byte 0xe8: the file is not UTF-8 text"):
        reader(path)


def test_the_separator_is_detected_when_not_given(tmp_path):
    long_path = write(tmp_path, LONG.replace(",", ";"), "long.csv")
    ds = read_sequences(long_path)
    assert ds.feature_names == ["temp", "humidity"] and ds.lengths.tolist() == [2, 3, 1]
    wide_path = write(tmp_path, "label;a;b;c\nx;1;2;3\ny;4;5;\n", "wide.csv")
    ds = read_sequences(wide_path)
    assert ds.class_names == ["x", "y"] and ds.lengths.tolist() == [3, 2]
    pipes = write(tmp_path, "1|0.5|0.25\n2|1\n", "pipe.csv")
    assert read_csv_wide(pipes).lengths.tolist() == [2, 1]
    assert sniff_delimiter(long_path) == ";" and sniff_delimiter(wide_path) == ";"
    commas = write(tmp_path, 'id,v,label\na,1,"x;y"\nb,2,"z;w"\n', "c.csv")
    assert sniff_delimiter(commas) == "," and read_csv(commas).class_names == ["x;y", "z;w"]
    assert sniff_delimiter(write(tmp_path, "1.5\n2.5\n", "one.csv")) == ","


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-", "'-"), ("cat", "cat"), ("a=b", "a=b"), ("", ""),
    ("-1.5", "-1.5"), ("+2", "+2"), ("-1e-05", "-1e-05"), ("-.5", "-.5"), (-3, -3), (0.5, 0.5),
])
def test_spreadsheet_safe(cell, written):
    assert spreadsheet_safe(cell) == written


def test_prediction_csv_escapes_formula_cells():
    from rnnkit.runs.predict import Predictions

    classes = Predictions({
        "index": [0, 1], "id": ["@id", "-7"], "predicted": ["=cmd", "-1"],
        "probability": [0.9, 0.8], "prob_=cmd": [0.9, 0.2], "prob_-1": [0.1, 0.8],
        "label": ["+x", "=cmd"],
    })
    rows = list(csv.reader(io.StringIO(classes.to_csv())))
    assert rows[0] == ["index", "id", "predicted", "probability", "prob_=cmd", "prob_-1",
                       "label"]
    assert rows[1] == ["0", "'@id", "'=cmd", "0.900000", "0.900000", "0.100000", "'+x"]
    assert rows[2] == ["1", "-7", "-1", "0.800000", "0.200000", "0.800000", "'=cmd"]
    values = Predictions({"index": [0, 1], "predicted": [-1.5, 2.0], "target": [-0.25, 3.0]})
    assert values.to_csv().splitlines()[1:] == ["0,-1.5,-0.25", "1,2,3"]
