"""NPZ archives: round trips, label kinds, shape and length validation, broken archives."""

import pickle
import zipfile

import numpy as np
import pytest
from npy_helpers import npy_bytes

from rnnkit.data.sequences import SequenceDataset, SequenceFileError, read_sequences
from rnnkit.data.sequences.npz import read_npz, write_npz


def test_round_trip_unequal_lengths_missing_values_string_classes(tmp_path):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 5, 1)]
    seqs[1][0, 0] = np.nan
    ds = SequenceDataset(seqs, np.array([1, 0, 1]), class_names=["cat", "dog"],
                         feature_names=["a", "b"])
    write_npz(ds, tmp_path / "d.npz", compressed=True)
    back = read_npz(tmp_path / "d.npz")
    assert back.class_names == ["cat", "dog"] and back.feature_names == ["a", "b"]
    assert back.targets.tolist() == [1, 0, 1] and back.lengths.tolist() == [3, 5, 1]
    for a, b in zip(seqs, back.sequences, strict=True):
        np.testing.assert_array_equal(a, b)


def test_round_trip_keeps_regression_with_whole_number_targets(tmp_path):
    ds = SequenceDataset([np.ones((2, 1)), np.zeros((3, 1))], np.array([1.0, 2.0]),
                         task="regression")
    write_npz(ds, tmp_path / "r.npz")
    back = read_sequences(tmp_path / "r.npz")
    assert back.task == "regression" and back.targets.dtype == np.float32
    np.testing.assert_array_equal(back.targets, [1, 2])


def test_ids_round_trip_and_are_read_as_strings(tmp_path):
    ds = SequenceDataset([np.ones((2, 1)), np.zeros((3, 1)), np.ones((1, 1))],
                         np.array([0, 1, 0]), ids=["s1", "s2", "s3"])
    write_npz(ds, tmp_path / "d.npz")
    back = read_sequences(tmp_path / "d.npz")
    assert back.ids == ["s1", "s2", "s3"] and back.lengths.tolist() == [2, 3, 1]
    write_npz(ds, tmp_path / "other.npz", ids=["x", "y", "z"])
    assert read_npz(tmp_path / "other.npz").ids == ["x", "y", "z"]
    write_npz(SequenceDataset(ds.sequences, None), tmp_path / "none.npz")
    assert read_npz(tmp_path / "none.npz").ids is None
    np.savez(tmp_path / "int.npz", X=np.zeros((3, 4)), ids=np.array([30, 10, 20]))
    assert read_npz(tmp_path / "int.npz").ids == ["30", "10", "20"]
    np.savez(tmp_path / "bytes.npz", X=np.zeros((2, 4)), ids=np.array([b"a", b"b"]))
    assert read_npz(tmp_path / "bytes.npz").ids == ["a", "b"]


@pytest.mark.parametrize("ids", [np.array(["a", "b"]), np.array([["a"], ["b"], ["c"]]),
                                 np.array("abc")])
def test_ids_that_are_not_one_per_sequence_are_an_error_naming_the_file(tmp_path, ids):
    path = tmp_path / "bad.npz"
    np.savez(path, X=np.zeros((3, 4)), ids=ids)
    with pytest.raises(SequenceFileError, match="expected \\(3,\\) strings or numbers") as e:
        read_npz(path)
    assert e.value.path == str(path)
    ds = SequenceDataset([np.ones((2, 1))] * 3, None)
    with pytest.raises(ValueError, match="one id per sequence \\(3\\)"):
        write_npz(ds, tmp_path / "w.npz", ids=["a", "b"])


def test_two_dimensional_x_and_label_kinds(tmp_path):
    x = np.arange(12.0).reshape(3, 4)
    np.savez(tmp_path / "s.npz", X=x, y=np.array(["b", "a", "b"]))
    ds = read_npz(tmp_path / "s.npz")
    assert ds.num_features == 1 and ds.lengths.tolist() == [4, 4, 4]
    assert ds.class_names == ["a", "b"] and ds.targets.tolist() == [1, 0, 1]
    np.savez(tmp_path / "i.npz", x=x, y=np.array([10, 2, 1]))
    ds = read_npz(tmp_path / "i.npz")
    assert ds.class_names == ["1", "2", "10"] and ds.targets.tolist() == [2, 1, 0]
    np.savez(tmp_path / "f.npz", X=x, y=np.array([0.5, 1.0, 2.0]))
    assert read_npz(tmp_path / "f.npz").task == "regression"
    with pytest.raises(SequenceFileError, match="not whole numbers"):
        read_npz(tmp_path / "f.npz", task="classification")
    np.savez(tmp_path / "w.npz", X=x, y=np.array([0.0, 1.0, 2.0]))
    assert read_npz(tmp_path / "w.npz", task="classification").class_names == ["0", "1", "2"]
    np.savez(tmp_path / "u.npz", X=x)
    assert read_npz(tmp_path / "u.npz").targets is None
    np.savez(tmp_path / "c.npz", X=x, y=np.array([1, 0, 1]), class_names=np.array(["no", "yes"]))
    ds = read_npz(tmp_path / "c.npz", class_names=["yes", "no", "maybe"])
    assert ds.targets.tolist() == [0, 1, 0] and ds.num_classes == 3


def test_lengths_select_the_valid_steps(tmp_path):
    x = np.zeros((2, 4, 3))
    x[1, :2] = 1
    np.savez(tmp_path / "l.npz", X=x, lengths=np.array([4, 2]), y=np.array([0, 1]))
    ds = read_npz(tmp_path / "l.npz")
    assert ds.lengths.tolist() == [4, 2]
    np.testing.assert_array_equal(ds.sequences[1], np.ones((2, 3)))


@pytest.mark.parametrize(("arrays", "fragment"), [
    ({"Z": np.zeros((2, 3))}, "no array 'X'"),
    ({"X": np.zeros(3)}, "expected (N, L, F) or (N, L)"),
    ({"X": np.zeros((2, 0, 1))}, "expected (N, L, F) or (N, L)"),
    ({"X": np.array([["a", "b"]])}, "expected numbers"),
    ({"X": np.full((1, 2), np.inf)}, "infinite"),
    ({"X": np.zeros((2, 3)), "lengths": np.array([3, 4])}, "lengths[1] = 4; expected 1..3"),
    ({"X": np.zeros((2, 3)), "lengths": np.array([0, 3])}, "lengths[0] = 0"),
    ({"X": np.zeros((2, 3)), "lengths": np.array([3])}, "expected (2,) integers"),
    ({"X": np.zeros((2, 3)), "lengths": np.array([1.0, 2.0])}, "expected (2,) integers"),
    ({"X": np.zeros((2, 3)), "y": np.array([0, 1, 1])}, "y has shape (3,); expected (N,) = (2,)"),
    ({"X": np.zeros((2, 3)), "y": np.array([0.0, np.nan])}, "missing or infinite"),
    ({"X": np.zeros((2, 3)), "y": np.array([0, 2]), "class_names": np.array(["a", "b"])},
     "y spans 0..2"),
    ({"X": np.zeros((2, 3, 2)), "feature_names": np.array(["a"])}, "1 feature_names for F = 2"),
])
def test_invalid_archives(tmp_path, arrays, fragment):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(SequenceFileError) as e:
        read_npz(path)
    assert fragment in e.value.reason and str(path) in str(e.value)


def test_object_arrays_and_non_archives_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.zeros((1, 2)), y=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SequenceFileError, match="not a readable .npz"):
        read_npz(path)
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(SequenceFileError, match="not a readable .npz"):
        read_npz(tmp_path / "junk.npz")




def zip_with(path, name, data):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, data)
    return path


HUGE = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6, 5)}  # 36 TiB


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda p: p.write_bytes(b""), "found an empty file"),
    (lambda p: p.write_bytes(npy_bytes(np.zeros((2, 3)))), "found a single .npy array"),
    (lambda p: zip_with(p, "X.npy", pickle.dumps([1, 2])), "member X.npy: expected a .npy array"),
    (lambda p: zip_with(p, "X.npy", npy_bytes(np.array([{}], dtype=object))),
     "member X.npy: expected numbers or strings, found Python objects"),
    (lambda p: zip_with(p, "X.npy", npy_bytes(header=HUGE)),
     "declares shape (1000000, 1000000, 5) of float64, 40,000,000,000,000 bytes"),
    (lambda p: zip_with(p, "X.npy", npy_bytes(np.zeros((2, 3)))[:-5]), "truncated file"),
])
def test_broken_archives_are_refused_naming_the_file(tmp_path, make, fragment):
    path = tmp_path / "broken.npz"
    make(path)
    with pytest.raises(SequenceFileError) as e:
        read_sequences(path)
    assert fragment in e.value.reason and str(e.value).startswith(f"{path}: not a readable .npz")


@pytest.mark.parametrize("compressed", [False, True])
def test_truncated_archives_are_refused(tmp_path, compressed):
    path = tmp_path / "t.npz"
    (np.savez_compressed if compressed else np.savez)(path, X=np.arange(600.0).reshape(3, 200))
    raw = path.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 30):
        path.write_bytes(raw[:cut])
        with pytest.raises(SequenceFileError, match="truncated or corrupt") as e:
            read_npz(path)
        assert str(path) in str(e.value)


def test_an_archive_without_sequences_is_refused(tmp_path):
    np.savez(tmp_path / "none.npz", X=np.zeros((0, 5, 2)), y=np.zeros(0, np.int64))
    with pytest.raises(SequenceFileError, match=r"none.npz: X has shape \(0, 5, 2\): the file "
                       "holds no sequences"):
        read_npz(tmp_path / "none.npz")
