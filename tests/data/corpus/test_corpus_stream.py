"""The windows of a token stream: layout, contiguity, epochs, the memory-mapped file."""

import pickle

import numpy as np
import pytest

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
        window_loader(values, 4, 10).dataset[245]


def test_token_dtype():
    assert token_dtype(65_535) == np.uint16 and token_dtype(65_536) == np.uint32
