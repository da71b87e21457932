"""Labels per step in sequence files: NPZ ``y (N, L)``, a long CSV whose label changes within a
recording, ``labels=`` forcing either kind, and the data module's batches for tagging."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.config import ConfigError
from rnnkit.data.sequences import SequenceDataset, SequenceFileError, read_sequences
from rnnkit.data.sequences.config import AUTO_FAMILY, FilesConfig
from rnnkit.data.sequences.datamodule import SequenceDataModule
from rnnkit.data.sequences.npz import write_npz
from rnnkit.data.sequences.source import SOURCE
from rnnkit.data.sequences.ts import write_ts


def _npz(path: Path, n: int = 5, length: int = 9, seed: int = 0, **arrays) -> Path:
    """X (n, length, 2), lengths 1..length, y "up"/"down" by the sign of feature 0 at each step,
    "" past each length (padding the reader must ignore)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, length, 2)).astype(np.float32)
    lengths = rng.integers(1, length + 1, n)
    lengths[0] = length
    y = np.where(x[..., 0] > 0, "up", "down")
    y[np.arange(length) >= lengths[:, None]] = ""
    np.savez(path, **{"X": x, "lengths": lengths, "y": y, **arrays})
    return path


def _write_npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SEGMENTS = ("id,time,acc,label\n"
            "rec1,0,0.1,sitting\nrec1,1,0.2,sitting\nrec1,2,2.5,walking\nrec1,3,2.7,walking\n"
            "rec2,0,2.4,walking\nrec2,1,0.3,sitting\nrec2,2,0.1,sitting\n")
CONSTANT = "id,time,acc,label\nrec1,0,0.1,calm\nrec1,1,0.2,calm\nrec2,0,2.4,busy\n"


def test_npz_y_of_shape_n_l_is_a_label_per_step_and_ignores_steps_past_each_length(tmp_path):
    path = _npz(tmp_path / "a.npz")
    arrays = np.load(path)
    ds = read_sequences(path)
    assert ds.step_labels and ds.task == "classification"
    assert ds.class_names == ["down", "up"]  # sorted, and the padding "" is no class
    for i, (seq, tags) in enumerate(zip(ds.sequences, ds.targets, strict=True)):
        assert tags.shape == (len(seq),) == (arrays["lengths"][i],)
        np.testing.assert_array_equal(tags, (seq[:, 0] > 0).astype(np.int64))


def test_npz_integer_and_whole_float_step_labels_are_classes_numerically_sorted(tmp_path):
    x = np.zeros((2, 3, 1))
    ds = read_sequences(_write_npz(tmp_path / "i.npz", X=x, y=np.array([[10, 2, 2], [2, 10, 10]])))
    assert ds.class_names == ["2", "10"] and ds.targets[0].tolist() == [1, 0, 0]
    ds = read_sequences(_write_npz(tmp_path / "f.npz", X=x, y=np.array([[1.0, 0.0, 0], [0, 1, 1]])))
    assert ds.class_names == ["0", "1"] and ds.targets[1].tolist() == [0, 1, 1]



def test_npz_y_of_another_shape_names_both_expected_shapes_and_the_one_found(tmp_path):
    path = _write_npz(tmp_path / "bad.npz", X=np.zeros((5, 9, 1)), y=np.zeros((5, 7), int))
    with pytest.raises(SequenceFileError) as e:
        read_sequences(path)
    assert str(e.value) == (f"{path}: y has shape (5, 7); expected (N,) = (5,) for a label per "
                            "sequence or (N, L) = (5, 9) for a label per step")


@pytest.mark.parametrize(("labels", "y", "fragment"), [
    ("step", np.zeros(5, int), "y has shape (5,); expected (N, L) = (5, 9) for a label per step"),
    ("sequence", np.zeros((5, 9), int),
     "y has shape (5, 9); expected (N,) = (5,) for a label per sequence"),
])
def test_npz_labels_option_demands_its_shape_of_y(tmp_path, labels, y, fragment):
    path = _write_npz(tmp_path / "a.npz", X=np.zeros((5, 9, 1)), y=y)
    with pytest.raises(SequenceFileError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_sequences(path, labels=labels)


def test_numbers_with_a_fraction_per_step_are_refused_as_per_step_regression(tmp_path):
    y = np.zeros((2, 3))
    y[1, 2] = 0.5
    path = _write_npz(tmp_path / "r.npz", X=np.zeros((2, 3, 1)), y=y)
    with pytest.raises(SequenceFileError) as e:
        read_sequences(path)
    assert e.value.reason == ("per-step labels must be class labels; found numbers with a "
                              "fraction such as '0.5' at sequence 1, step 2 (per-step "
                              "regression is not supported)")
    csv_path = _write(tmp_path / "r.csv", "id,v,label\na,1,0.25\na,2,1\n")
    with pytest.raises(SequenceFileError, match="per-step regression is not supported") as e:
        read_sequences(csv_path)
    assert e.value.line == 2
    with pytest.raises(SequenceFileError, match="per-step regression is not supported"):
        read_sequences(_npz(tmp_path / "s.npz"), task="regression")


def test_long_csv_whose_label_changes_within_a_recording_has_a_label_per_step(tmp_path):
    ds = read_sequences(_write(tmp_path / "seg.csv", SEGMENTS))
    assert ds.step_labels and ds.ids == ["rec1", "rec2"]
    assert ds.class_names == ["sitting", "walking"]
    assert [t.tolist() for t in ds.targets] == [[0, 0, 1, 1], [1, 0, 0]]


def test_long_csv_whose_label_is_constant_within_every_sequence_keeps_one_label(tmp_path):
    path = _write(tmp_path / "const.csv", CONSTANT)
    ds = read_sequences(path)
    assert not ds.step_labels and ds.targets.tolist() == [1, 0]  # busy, calm
    forced = read_sequences(path, labels="step")
    assert forced.step_labels and [t.tolist() for t in forced.targets] == [[1, 1], [0]]


def test_labels_sequence_refuses_a_label_that_changes_naming_the_line(tmp_path):
    with pytest.raises(SequenceFileError) as e:
        read_sequences(_write(tmp_path / "seg.csv", SEGMENTS), labels="sequence")
    assert e.value.line == 4 and "changes label from 'sitting' (line 3) to 'walking'" in \
        e.value.reason


def test_files_of_one_label_per_sequence_refuse_labels_step(tmp_path):
    wide = _write(tmp_path / "w.csv", "up,1,2,3\ndown,3,2,1\n")
    with pytest.raises(SequenceFileError, match="a wide CSV .* holds one label per sequence"):
        read_sequences(wide, labels="step")
    ts = tmp_path / "a.ts"
    write_ts(SequenceDataset([np.ones((2, 1))] * 2, np.array([0, 1])), ts)
    with pytest.raises(SequenceFileError, match="a .ts file holds one label per sequence"):
        read_sequences(ts, labels="step")
    with pytest.raises(ConfigError, match="data.labels=step needs a label per step"):
        FilesConfig(train=str(ts), labels="step").check_files()


def test_unseen_step_labels_become_minus_one_with_the_training_classes(tmp_path):
    ds = read_sequences(_write(tmp_path / "seg.csv", SEGMENTS), labels="step",
                        class_names=["sitting"])
    assert [t.tolist() for t in ds.targets] == [[0, 0, -1, -1], [-1, 0, 0]]


def test_npz_round_trip_of_labels_per_step_and_ts_refuses_them(tmp_path):
    ds = read_sequences(_npz(tmp_path / "a.npz"))
    write_npz(ds, tmp_path / "b.npz")
    back = read_sequences(tmp_path / "b.npz")
    assert back.step_labels and back.class_names == ds.class_names
    for a, b in zip(ds.targets, back.targets, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="a .ts file holds one label per sequence"):
        write_ts(ds, tmp_path / "c.ts")


def test_subsets_keep_labels_per_step(tmp_path):
    ds = read_sequences(_npz(tmp_path / "a.npz"))
    part = ds.subset([3, 1])
    assert part.step_labels and [len(t) for t in part.targets] == \
        [len(ds.sequences[3]), len(ds.sequences[1])]


@pytest.fixture
def module(tmp_path) -> SequenceDataModule:
    train = _npz(tmp_path / "train.npz", n=40, length=12, seed=1)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 8, 2)).astype(np.float32)
    y = np.where(x[..., 0] > 0, "up", "down")
    y[0, :3] = "jump"  # a label the training data never had
    np.savez(tmp_path / "test.npz", X=x, y=y)
    return SOURCE.datamodule(FilesConfig(train=str(train), test=str(tmp_path / "test.npz"),
                                         val_fraction=0.25, batch_size=8),
                             seed=0, family="auto")


def test_batches_are_x_lengths_and_tags_padded_with_minus_100(module):
    module.setup("fit")
    x, lengths, y = next(iter(module.train_dataloader()))
    assert x.shape[:2] == y.shape and y.dtype == torch.int64
    for row, n in enumerate(lengths.tolist()):
        assert (y[row, n:] == -100).all() and (y[row, :n] >= 0).all()


def test_the_description_says_tags_with_the_sorted_label_names(module):
    module.setup("fit")
    info = module.describe()
    assert info.step_labels and info.targets == "tags" and info.class_names == ("down", "up")
    assert AUTO_FAMILY[info.targets] == "tag"


def test_test_labels_unseen_in_training_are_minus_one_and_counted_in_a_note(module):
    module.setup("test")
    _, _, y = next(iter(module.test_dataloader()))
    assert (y == -1).sum() == 3
    assert any(note.startswith("test: 3 steps of ") and "never had" in note
               for note in module.notes)


def test_the_validation_split_is_whole_sequences_seeded(module, tmp_path):
    module.setup("fit")
    val = module.dataset("val")
    again = SOURCE.datamodule(FilesConfig(train=str(tmp_path / "train.npz"), val_fraction=0.25,
                                          batch_size=8), seed=0, family="auto")
    again.setup("fit")
    assert len(val) == 10 and len(module.dataset("train")) == 30
    assert again.state_dict()["split"] == module.state_dict()["split"]


def test_a_checkpoint_state_reads_files_to_predict_per_step(module, tmp_path):
    module.setup("fit")
    fresh = SequenceDataModule(None, predict_path=tmp_path / "test.npz")
    fresh.load_state_dict(module.state_dict())
    fresh.setup("predict")
    assert fresh.step_labels and fresh.dataset("predict").step_labels
