"""IDX reader/writer: round trips and every corrupt-file error."""

import gzip

import numpy as np
import pytest

from rnnkit.data.mnist.idx import IDXFormatError, is_gzip, read_idx, write_idx


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip_uint8(tmp_path, images, name):
    path = write_idx(tmp_path / name, images)
    assert is_gzip(path) == name.endswith(".gz")
    out = read_idx(path, ndim=3, dtype=np.uint8)
    assert out.dtype == np.uint8 and out.flags.writeable
    np.testing.assert_array_equal(out, images)


def test_header_layout(tmp_path):
    labels = np.array([7, 2, 1], dtype=np.uint8)
    raw = write_idx(tmp_path / "l-idx1-ubyte", labels).read_bytes()
    assert raw == bytes.fromhex("00000801") + bytes.fromhex("00000003") + bytes([7, 2, 1])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_other_dtypes(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = read_idx(write_idx(tmp_path / "a.gz", a))
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, a)


def test_gzip_detected_by_magic_not_name(tmp_path, images):
    gz_named_raw = write_idx(tmp_path / "raw.gz", images, compress=False)
    raw_named_gz = write_idx(tmp_path / "gz-idx3-ubyte", images, compress=True)
    np.testing.assert_array_equal(read_idx(gz_named_raw), images)
    np.testing.assert_array_equal(read_idx(raw_named_gz), images)


def test_gzip_output_is_reproducible(tmp_path, images):
    a = write_idx(tmp_path / "a.gz", images).read_bytes()
    b = write_idx(tmp_path / "b.gz", images).read_bytes()
    assert a == b


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="found uint16"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=np.uint16))


def _raw(tmp_path, images):
    return write_idx(tmp_path / "i-idx3-ubyte", images).read_bytes()


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cut", [2, 10, 100])
def test_truncated(tmp_path, images, cut, gz):
    data = _raw(tmp_path, images)[:cut]
    path = tmp_path / "t"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IDXFormatError, match="truncated") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_trailing_bytes(tmp_path, images):
    path = tmp_path / "t"
    path.write_bytes(_raw(tmp_path, images) + b"\0")
    with pytest.raises(IDXFormatError, match="expected 3936 bytes.*found 3937.*trailing"):
        read_idx(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(IDXFormatError, match="found 0 bytes"):
        read_idx(path)


def test_bad_magic(tmp_path, images):
    path = tmp_path / "m"
    path.write_bytes(b"\x01\x02" + _raw(tmp_path, images)[2:])
    with pytest.raises(IDXFormatError, match=r"m: expected an IDX magic.*found 0x01020803"):
        read_idx(path)


def test_unknown_dtype_byte(tmp_path, images):
    data = bytearray(_raw(tmp_path, images))
    data[2] = 0x07
    path = tmp_path / "d"
    path.write_bytes(bytes(data))
    with pytest.raises(IDXFormatError, match="found 0x07"):
        read_idx(path)


def test_wrong_dtype_byte(tmp_path):
    path = write_idx(tmp_path / "f", np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(IDXFormatError, match=r"expected dtype byte 0x08 \(uint8\), found 0x0D"):
        read_idx(path, dtype=np.uint8)


def test_wrong_ndim(tmp_path):
    path = write_idx(tmp_path / "l", np.zeros(4, dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"expected 3 dimension\(s\).*found 1"):
        read_idx(path, ndim=3)


def test_bad_gzip(tmp_path, images):
    good = gzip.compress(_raw(tmp_path, images))
    corrupt = tmp_path / "corrupt.gz"
    corrupt.write_bytes(good[:10] + bytes(b ^ 0xFF for b in good[10:40]) + good[40:])
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(good[: len(good) // 2])
    for path in (corrupt, truncated):
        with pytest.raises(IDXFormatError, match="gzip") as e:
            read_idx(path)
        assert str(path) in str(e.value)
