"""The container, missing values, standardisation, batching and the sequence data module."""

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler, SequentialSampler

from rnnkit.data.batching import BucketBatchSampler, SeededShuffleSampler, collate_sequences
from rnnkit.data.sequences import (
    SequenceDataset,
    SequenceFileError,
    Standardizer,
    forward_fill,
    read_sequences,
)
from rnnkit.data.sequences.datamodule import SequenceDataModule, split_indices
from rnnkit.data.sequences.npz import write_npz
from rnnkit.data.sequences.ts import write_ts

NAN = np.nan


def make(n=40, classes=3, features=2, seed=0, task="classification"):
    rng = np.random.default_rng(seed)
    seqs = [rng.standard_normal((int(rng.integers(1, 30)), features)) * 3 + 5 for _ in range(n)]
    if task == "regression":
        return SequenceDataset(seqs, rng.standard_normal(n), task="regression")
    return SequenceDataset(seqs, np.arange(n) % classes,
                           class_names=[f"c{k}" for k in range(classes)])


# ---- the container --------------------------------------------------------------------------
def test_container_converts_fills_names_and_pads():
    ds = SequenceDataset([np.arange(3), np.ones((1, 1))], np.array([1, 0]))
    assert ds.sequences[0].shape == (3, 1) and ds.sequences[0].dtype == np.float32
    assert ds.class_names == ["0", "1"] and ds.feature_names == ["dim_0"]
    assert ds.num_classes == 2 and ds.num_features == 1 and len(ds) == 2 and ds.ids is None
    x, lengths = ds.padded()
    assert x.shape == (2, 3, 1) and x.dtype == np.float32 and lengths.tolist() == [3, 1]
    np.testing.assert_array_equal(x[1, :, 0], [1, 0, 0])
    sub = ds.subset([1])
    assert sub.targets.tolist() == [0] and sub.class_names == ds.class_names
    seq, target = ds[0]
    assert seq.shape == (3, 1) and target == 1


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"sequences": []}, SequenceFileError, "no sequences"),
    ({"sequences": [np.ones((2, 1)), np.ones((2, 2))]}, SequenceFileError, "feature counts"),
    ({"sequences": [np.ones((0, 1))]}, SequenceFileError, "L >= 1"),
    ({"sequences": [np.array([[np.inf]])]}, SequenceFileError, "infinite"),
    ({"targets": np.array([0])}, ValueError, "expected (2,)"),
    ({"targets": np.array([0, 5]), "class_names": ["a", "b"]}, ValueError, "0..1"),
    ({"targets": np.array([0.5, 1.0])}, ValueError, "class indices"),
    ({"task": "ranking"}, ValueError, "task must be"),
    ({"feature_names": ["a", "b"]}, ValueError, "2 feature_names for 1 features"),
    ({"targets": np.array([0.5, NAN]), "task": "regression"}, SequenceFileError, "not finite"),
    ({"ids": ["a"], "source": "d.csv"}, SequenceFileError, "d.csv: 1 ids for 2 sequences"),
    ({"ids": ["a", "b", "c"]}, SequenceFileError, "3 ids for 2 sequences"),
    ({"ids": "ab"}, ValueError, "one id per sequence, not be one string"),
])
def test_container_rejects_bad_input(kwargs, error, fragment):
    args = {"sequences": [np.ones((2, 1)), np.ones((3, 1))], "targets": np.array([0, 1]), **kwargs}
    with pytest.raises(error, match=None) as e:
        SequenceDataset(**args)
    assert fragment in str(e.value)


def test_ids_stay_with_their_sequences_in_every_derived_dataset():
    ds = SequenceDataset([np.full((k, 2), float(k)) for k in (1, 2, 3)], np.array([0, 1, 0]),
                         ids=np.array([7, 8, 9]))
    assert ds.ids == ["7", "8", "9"]  # one str per sequence
    sub = ds.subset([2, 0])
    assert sub.ids == ["9", "7"] and sub.lengths.tolist() == [3, 1]
    assert ds.subset([]).ids == [] and SequenceDataset(ds.sequences, None).subset([1]).ids is None
    ready = Standardizer.fit(ds).apply(sub)
    assert ready.ids == ["9", "7"] and ready.targets.tolist() == [0, 0]
    doubled = ds.with_sequences([2 * s for s in ds.sequences])
    assert doubled.ids == ds.ids and doubled.class_names == ds.class_names
    np.testing.assert_array_equal(doubled.sequences[1], np.full((2, 2), 4.0))
    with pytest.raises(ValueError, match="2 sequences for a dataset of 3"):
        ds.with_sequences(ds.sequences[:2])


# ---- missing values and standardisation ------------------------------------------------------
def test_forward_fill_carries_the_last_observation_per_feature():
    x = np.array([[NAN, 1], [2, NAN], [NAN, NAN], [4, 5]])
    np.testing.assert_array_equal(forward_fill(x), [[NAN, 1], [2, 1], [2, 1], [4, 5]])


def test_standardizer_statistics_and_missing_value_rule():
    train = [np.array([[1.0, NAN, NAN], [3.0, 2.0, NAN]]), np.array([[5.0, 4.0, NAN]])]
    s = Standardizer.fit(train)
    np.testing.assert_allclose(s.mean, [3, 3, 0])
    np.testing.assert_allclose(s.std, [np.sqrt(8 / 3), 1, 1])  # unobserved feature: std 1
    z = s.transform(np.array([[NAN, 2, NAN], [3, NAN, 7], [NAN, 5, NAN]]))
    assert z.dtype == np.float32 and not np.isnan(z).any()
    # leading missing -> 0 (the training mean), later missing -> last value carried forward
    np.testing.assert_allclose(z[:, 0], [0, 0, 0])
    np.testing.assert_allclose(z[:, 1], [-1, -1, 2])
    np.testing.assert_allclose(z[:, 2], [0, 7, 7])
    constant = Standardizer.fit([np.full((4, 1), 2.0)])
    assert constant.std.tolist() == [1.0] and constant.transform(np.full((1, 1), 2.0))[0, 0] == 0
    with pytest.raises(ValueError, match=r"shape \(L, 3\)"):
        s.transform(np.ones((2, 2)))


def test_standardizer_round_trips_through_a_plain_dict():
    s = Standardizer.fit(make())
    state = json.loads(json.dumps(s.to_dict()))
    assert Standardizer.from_dict(state) == s
    with pytest.raises(ValueError, match="lacks"):
        Standardizer.from_dict({"mean": [0.0]})
    with pytest.raises(ValueError, match="> 0"):
        Standardizer.from_dict({"mean": [0.0], "std": [0.0]})
    with pytest.raises(ValueError, match="must match"):
        Standardizer.from_dict({"mean": [0.0], "std": [1.0, 1.0]})


# ---- dispatch --------------------------------------------------------------------------------
def test_read_sequences_dispatches_on_extension_and_format(tmp_path):
    ds = make(n=5)
    write_npz(ds, tmp_path / "d.npz")
    write_ts(ds, tmp_path / "d.ts")
    write_ts(ds, tmp_path / "d.txt")
    for path, fmt in [("d.npz", None), ("d.ts", None), ("d.txt", "ts")]:
        back = read_sequences(tmp_path / path, format=fmt)
        assert back.targets.tolist() == ds.targets.tolist()
        np.testing.assert_allclose(back.sequences[3], ds.sequences[3])
    with pytest.raises(ValueError, match="cannot tell the format"):
        read_sequences(tmp_path / "d.txt")


# ---- batching --------------------------------------------------------------------------------
def batches_of(sampler):
    return [list(b) for b in sampler]


@pytest.mark.parametrize("drop_last", [False, True])
def test_bucket_sampler_covers_every_index_once_and_is_deterministic(drop_last):
    lengths = np.random.default_rng(0).integers(1, 100, size=103)
    def build(seed=0):
        return BucketBatchSampler(SeededShuffleSampler(103, seed), 8, drop_last,
                                  lengths=lengths, chunk_batches=4, seed=seed)
    sampler = build()
    first = batches_of(sampler)
    flat = sorted(i for b in first for i in b)
    if drop_last:
        assert len(flat) == 96 and len(set(flat)) == 96 and all(len(b) == 8 for b in first)
    else:
        assert flat == list(range(103))
    assert len(first) == len(sampler) == (12 if drop_last else 13)
    assert batches_of(build()) == first  # same seed, same epoch
    sampler.set_epoch(1)
    second = batches_of(sampler)
    assert second != first
    if not drop_last:
        assert sorted(i for b in second for i in b) == flat
    again = build()
    again.set_epoch(1)
    assert batches_of(again) == second
    assert batches_of(build(seed=1)) != first


def test_bucketing_groups_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 200, size=512)
    bucketed = BucketBatchSampler(SeededShuffleSampler(512), 16, lengths=lengths)
    plain = np.random.default_rng(0).permutation(512).reshape(-1, 16)
    def padding(batches):
        return sum(int(lengths[b].max() * len(b) - lengths[b].sum()) for b in batches)
    assert padding([np.array(b) for b in bucketed]) < padding(plain) / 4


def test_bucket_sampler_under_a_distributed_sampler_splits_the_data():
    lengths = np.arange(50) % 7 + 1
    seen = []
    for rank in range(2):
        dist = DistributedSampler(range(50), num_replicas=2, rank=rank, shuffle=True, seed=3)
        seen += [i for b in BucketBatchSampler(dist, 4, lengths=lengths) for i in b]
    assert sorted(set(seen)) == list(range(50)) and len(seen) == 50


def test_sequential_bucket_sampler_does_not_shuffle():
    lengths = np.array([3, 1, 2, 5, 4])
    s = BucketBatchSampler(SequentialSampler(range(5)), 2, lengths=lengths, shuffle=False)
    assert batches_of(s) == [[1, 2], [0, 4], [3]]


def test_collate_pads_with_zeros_and_types_targets():
    batch = [(np.ones((2, 3), np.float32), np.int64(1)), (np.full((4, 3), 2, np.float32),
                                                          np.int64(0))]
    x, lengths, y = collate_sequences(batch)
    assert x.shape == (2, 4, 3) and x.dtype == torch.float32
    assert lengths.tolist() == [2, 4] and lengths.dtype == torch.int64
    assert y.dtype == torch.int64 and y.tolist() == [1, 0]
    assert torch.all(x[0, 2:] == 0) and torch.all(x[0, :2] == 1) and torch.all(x[1] == 2)
    _, _, y = collate_sequences([(np.ones((1, 1)), np.float32(0.5))])
    assert y.dtype == torch.float32
    _, _, y = collate_sequences([(np.ones((1, 1)), None)])
    assert y is None


# ---- the data module -------------------------------------------------------------------------
def test_split_is_stratified_seeded_and_keeps_a_training_example_per_class():
    ds = make(n=60, classes=3)
    train, val = split_indices(ds, 0.2, seed=1)
    assert len(val) == 12 and np.bincount(ds.targets[val]).tolist() == [4, 4, 4]
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(60))
    assert np.array_equal(split_indices(ds, 0.2, seed=1)[1], val)
    tiny = SequenceDataset([np.ones((1, 1))] * 3, np.array([0, 1, 1]))
    tr, va = split_indices(tiny, 0.6)
    assert 0 in tiny.targets[tr] and len(va) == 1
    reg = make(n=10, task="regression")
    assert len(split_indices(reg, 0.25)[1]) == 2


def test_datamodule_fits_the_standardizer_on_the_training_split_only(tmp_path):
    ds = make(n=50, classes=2)
    write_npz(ds, tmp_path / "train.npz")
    test = make(n=7, classes=2, seed=5)
    test.sequences[0][:] = 100.0  # far from the training data: must not move the statistics
    write_ts(test, tmp_path / "test.ts")
    dm = SequenceDataModule(tmp_path / "train.npz", test_path=tmp_path / "test.ts",
                            val_fraction=0.2, batch_size=8, seed=0)
    assert dm.task == "classification" and dm.num_classes == 2 and dm.input_size == 2
    assert dm.class_names == ["c0", "c1"]
    train_idx, _ = split_indices(ds, 0.2, seed=0)
    expected = Standardizer.fit(ds.subset(train_idx))
    assert dm.standardizer == expected and dm.standardizer != Standardizer.fit(ds)
    dm.setup("fit")
    dm.setup("test")
    total = 0
    for x, lengths, y in dm.train_dataloader():
        assert x.dtype == torch.float32 and x.shape[0] <= 8 and x.shape[1] == int(lengths.max())
        assert y.dtype == torch.int64 and not torch.isnan(x).any()
        total += len(y)
    assert total == 40
    assert sum(len(b[2]) for b in dm.val_dataloader()) == 10
    assert sum(len(b[2]) for b in dm.test_dataloader()) == 7


def test_datamodule_state_restores_prediction_without_the_training_file(tmp_path):
    ds = make(n=20, classes=3)
    write_npz(ds, tmp_path / "train.npz")
    write_npz(SequenceDataset(ds.sequences[:5], None), tmp_path / "new.npz")
    dm = SequenceDataModule(tmp_path / "train.npz", val_fraction=0.0)
    state = json.loads(json.dumps(dm.state_dict()))
    fresh = SequenceDataModule(None, predict_path=tmp_path / "new.npz", batch_size=2)
    fresh.load_state_dict(state)
    assert fresh.standardizer == dm.standardizer and fresh.class_names == dm.class_names
    fresh.setup("predict")
    x, lengths, y = next(iter(fresh.predict_dataloader()))
    assert y is None and lengths.tolist() == ds.lengths[:2].tolist()  # file order kept
    expected = dm.standardizer.transform(ds.sequences[0])
    np.testing.assert_allclose(x[0, : lengths[0]].numpy(), expected, rtol=1e-6)
    assert dm.val_dataloader() == []


def test_datamodule_errors(tmp_path):
    write_npz(SequenceDataset([np.ones((2, 1))] * 4, None), tmp_path / "unlabelled.npz")
    with pytest.raises(ValueError, match="no labels"):
        _ = SequenceDataModule(tmp_path / "unlabelled.npz").task
    write_npz(make(n=6, features=2), tmp_path / "two.npz")
    write_npz(make(n=6, features=3), tmp_path / "three.npz")
    dm = SequenceDataModule(tmp_path / "two.npz", test_path=tmp_path / "three.npz")
    with pytest.raises(ValueError, match="3 features per step; the training data has 2"):
        dm.setup("test")
    with pytest.raises(RuntimeError, match="no train_path"):
        _ = SequenceDataModule(None).num_classes
    with pytest.raises(ValueError, match="val_fraction"):
        SequenceDataModule(tmp_path / "two.npz", val_fraction=1.0)
