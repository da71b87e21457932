"""The windows of a token stream: layout, contiguity, epochs, the memory-mapped file."""

import pickle

import numpy as np
import pytest
import torch

from rnnkit.data.corpus.stream import TokenFile, WindowSampler, token_dtype, window_loader


def batches(loader):
    return [(x.numpy(), y.numpy()) for x, y in loader]


@pytest.fixture
def ids(tmp_path):
    """1,003 ids in a .bin file and in memory."""
    values = (np.arange(1003) * 7919 % 50_000).astype(np.uint16)
    path = tmp_path / "ids.bin"
    values.tofile(path)
    return values, TokenFile(path, "uint16", len(values)).array()


def test_memmap_gives_the_batches_of_the_array(ids):
    values, mapped = ids
    assert isinstance(mapped, np.memmap)
    for random_offset in (False, True):
        a = batches(window_loader(values, 4, 10, random_offset=random_offset, seed=3))
        b = batches(window_loader(mapped, 4, 10, random_offset=random_offset, seed=3))
        assert len(a) == len(b) > 0
        for (xa, ya), (xb, yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


def test_layout_is_columns_read_window_by_window(ids):
    values, _ = ids
    n, w = 4, 10
    s = len(values) // n  # 250 tokens per column, the remainder (3) dropped
    out = batches(window_loader(values, n, w))
    assert len(out) == (s - 1) // w == 24  # the last, partial window is dropped
    for i, (x, y) in enumerate(out):
        assert x.shape == y.shape == (n, w) and x.dtype == np.int64
        for j in range(n):
            np.testing.assert_array_equal(x[j], values[j * s + i * w : j * s + (i + 1) * w])
            np.testing.assert_array_equal(y[j], values[j * s + i * w + 1 : j * s + (i + 1) * w + 1])


def test_consecutive_batches_continue_every_row(ids):
    values, mapped = ids
    loader = window_loader(mapped, 5, 7, random_offset=True, seed=1)
    loader.sampler.set_epoch(4)
    out = batches(loader)
    for (x0, y0), (x1, _) in zip(out, out[1:], strict=False):
        assert x0.shape[0] == x1.shape[0] == 5
        np.testing.assert_array_equal(x1[:, 0], y0[:, -1])  # x of the next starts where y ends
        np.testing.assert_array_equal(x0[:, 1:], y0[:, :-1])  # y is x one token later


def test_epochs_move_the_offset_deterministically_and_keep_the_length():
    def offsets(seed):
        sampler = WindowSampler(200, 16, random_offset=True, seed=seed)
        found = []
        for epoch in range(12):
            sampler.set_epoch(epoch)
            starts = list(sampler)
            assert len(starts) == len(sampler) == (200 - 16) // 16
            assert starts == list(range(starts[0], starts[0] + 16 * len(starts), 16))
            assert 0 <= starts[0] < 16 and starts[-1] + 16 + 1 <= 200  # every window fits
            found.append(starts[0])
        return found

    first = offsets(0)
    assert first == offsets(0) and len(set(first)) > 3
    assert first != offsets(1)
    fixed = WindowSampler(200, 16)
    fixed.set_epoch(5)
    assert list(fixed)[0] == 0 and len(fixed) == (200 - 1) // 16


def test_a_short_column_still_gives_a_window_with_random_offsets():
    sampler = WindowSampler(20, 16, random_offset=True, seed=0)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        (start,) = list(sampler)
        assert 0 <= start <= 20 - 16 - 1


def test_a_worker_reopens_the_memmap(ids):
    _, mapped = ids
    dataset = window_loader(mapped, 3, 8).dataset
    again = pickle.loads(pickle.dumps(dataset))
    assert isinstance(again.tokens, np.memmap)
    for a, b in zip(dataset[5], again[5], strict=True):
        assert a.equal(b)


def test_bad_windows_are_refused(ids):
    values, _ = ids
    with pytest.raises(ValueError, match="a window needs bptt"):
        window_loader(values[:20], 2, 10)
    with pytest.raises(IndexError, match="a window starts in"):
        window_loader(values, 4, 10).dataset[249]  # S = 250: a window needs 2 tokens


def test_a_covering_loader_scores_every_token_of_each_column(ids):
    values, _ = ids
    loader = window_loader(values, 4, 10, cover=True)  # columns of 250: 24 windows of 10, one of 9
    batches = list(loader)
    assert len(loader) == len(batches) == 25 and batches[-1][0].shape == (4, 9)
    y = torch.cat([b[1] for b in batches], dim=1)  # (4, 249)
    columns = torch.from_numpy(values[:1000].astype("int64")).reshape(4, 250)
    assert torch.equal(y, columns[:, 1:])
    assert torch.equal(torch.cat([b[0] for b in batches], dim=1), columns[:, :-1])


def test_token_dtype():
    assert token_dtype(65_535) == np.uint16 and token_dtype(65_536) == np.uint32


def test_the_epochs_of_a_pass_are_consecutive_chunks_of_it():
    s, w, seed = 1000, 7, 5
    whole = WindowSampler(s, w, random_offset=True, seed=seed)
    chunked = WindowSampler(s, w, random_offset=True, seed=seed, epoch_windows=30)
    assert whole.pass_windows == chunked.pass_windows == 141
    assert chunked.chunks == 5 and len(chunked) == 28  # 141 // 5; the last 1 window dropped
    for p in range(4):
        whole.set_epoch(p)
        starts = []
        for e in range(p * 5, (p + 1) * 5):
            chunked.set_epoch(e)
            assert len(list(chunked)) == len(chunked) == 28
            starts += list(chunked)
        assert starts == list(whole)[: 5 * 28]  # contiguous across every chunk boundary
    offsets = []
    for e in range(20):
        chunked.set_epoch(e)
        offsets.append(chunked.offset)
    assert all(len(set(offsets[p * 5 : (p + 1) * 5])) == 1 for p in range(4))
    assert len(set(offsets[::5])) > 1  # a new offset each pass


def test_an_epoch_of_at_least_a_pass_is_the_pass(ids):
    values, _ = ids
    for most in (None, 24, 1000):
        loader = window_loader(values, 4, 10, epoch_windows=most)
        assert len(loader) == 24 and loader.sampler.chunks == 1
    with pytest.raises(ValueError, match="epoch_windows must be >= 1"):
        WindowSampler(200, 16, epoch_windows=0)


def test_an_iterator_made_before_set_epoch_reads_that_epoch(ids):
    # A resumed Lightning run makes the loader's iterator first, then sets the epoch.
    loader = window_loader(ids[0], 4, 10, random_offset=True, seed=2, epoch_windows=8)
    for epoch in (1, 4):
        loader.sampler.set_epoch(epoch)
        expected = [x.numpy() for x, _ in loader]
        loader.sampler.set_epoch(0)
        early = iter(loader)
        loader.sampler.set_epoch(epoch)
        for (x, _), want in zip(early, expected, strict=True):
            np.testing.assert_array_equal(x.numpy(), want)
