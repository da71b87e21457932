"""Checksummed downloads, with file:// URLs and a fake opener: never the network."""

import gzip
import hashlib
import io
import urllib.request
from pathlib import Path

import pytest

from rnnkit.data import download as dl
from rnnkit.data.download import ChecksumError, DownloadError, data_dir, download_url, file_md5

PAYLOAD = b"rnnkit test payload\n" * 1000


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


@pytest.fixture
def served(tmp_path):
    """A raw and a gzipped file under tmp_path/served, with their file:// URLs."""
    src = tmp_path / "served"
    src.mkdir()
    (src / "f.txt").write_bytes(PAYLOAD)
    (src / "f.txt.gz").write_bytes(gzip.compress(PAYLOAD))
    return {name: (src / name).as_uri() for name in ("f.txt", "f.txt.gz")}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any non-file URL in these tests is a bug: fail instead of going online."""
    real = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        assert str(url).startswith("file:"), f"test tried the network: {url}"
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_md5_ok(tmp_path, served):
    dest = tmp_path / "cache" / "sub" / "f.txt"
    assert download_url(served["f.txt"], dest, md5=md5(PAYLOAD)) == dest
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == ["f.txt"]


def test_raw_md5_of_gzip_ok(tmp_path, served):
    dest = tmp_path / "c" / "f.txt.gz"
    download_url(served["f.txt.gz"], dest, md5="0" * 32, raw_md5=md5(PAYLOAD))
    assert gzip.decompress(dest.read_bytes()) == PAYLOAD
    assert file_md5(dest, decompress=True) == md5(PAYLOAD)


def test_mismatch_deletes_temp_and_raises(tmp_path, served):
    dest = tmp_path / "c" / "f.txt.gz"
    with pytest.raises(ChecksumError, match="expected md5 0{32}, uncompressed md5 1{32}") as e:
        download_url(served["f.txt.gz"], dest, md5="0" * 32, raw_md5="1" * 32)
    assert md5(PAYLOAD) in str(e.value)  # what was found
    assert leftovers(dest.parent) == []


def test_mismatch_keeps_existing_file(tmp_path, served):
    dest = tmp_path / "f.txt"
    dest.write_bytes(b"old")
    with pytest.raises(ChecksumError):
        download_url(served["f.txt"], dest, md5="0" * 32)
    assert dest.read_bytes() == b"old"


def test_next_mirror_after_failure(tmp_path, served):
    missing = (tmp_path / "nowhere" / "f.txt").as_uri()
    dest = tmp_path / "c" / "f.txt"
    download_url([missing, served["f.txt"]], dest, md5=md5(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_next_mirror_after_bad_checksum(tmp_path, served):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"corrupted")
    dest = tmp_path / "c" / "f.txt"
    download_url([bad.as_uri(), served["f.txt"]], dest, md5=md5(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_all_mirrors_unreachable(tmp_path):
    urls = [(tmp_path / f"missing{i}").as_uri() for i in range(2)]
    with pytest.raises(DownloadError, match="missing0.*\n.*missing1"):
        download_url(urls, tmp_path / "c" / "f", md5="0" * 32)
    assert leftovers(tmp_path / "c") == []


class Broken(io.RawIOBase):
    """A response that dies half way, like a dropped connection."""

    def __init__(self):
        self.sent = False

    def readable(self):
        return True

    def readinto(self, b):
        if self.sent:
            raise ConnectionResetError("connection reset")
        self.sent = True
        b[:4] = b"half"
        return 4


def test_interrupted_download_leaves_nothing(tmp_path):
    dest = tmp_path / "c" / "f"
    with pytest.raises(DownloadError, match="connection reset"):
        download_url("https://example.invalid/f", dest, md5="0" * 32, opener=lambda u, t: Broken())
    assert leftovers(dest.parent) == []


def test_interrupt_by_user_leaves_nothing(tmp_path, monkeypatch):
    def opener(url, timeout):
        raise KeyboardInterrupt

    dest = tmp_path / "c" / "f"
    with pytest.raises(KeyboardInterrupt):
        download_url("https://example.invalid/f", dest, md5="0" * 32, opener=opener)
    assert leftovers(dest.parent) == []


def test_default_opener_is_patchable(tmp_path, monkeypatch):
    seen = []

    def fake(url, timeout):
        seen.append(url)
        return io.BytesIO(PAYLOAD)

    monkeypatch.setattr(dl, "_urlopen", fake)
    download_url("https://example.invalid/f", tmp_path / "f", md5=md5(PAYLOAD))
    assert seen == ["https://example.invalid/f"]


def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNKIT_DATA_DIR", raising=False)
    assert data_dir() == Path.home() / ".cache" / "rnnkit"
    monkeypatch.setenv("RNNKIT_DATA_DIR", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "arg") == tmp_path / "arg"
