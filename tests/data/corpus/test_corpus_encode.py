"""Reading a long text in blocks: exact text, safe cuts, and the errors that name the place."""

import pytest

from rnnkit.data.corpus import encode
from rnnkit.data.corpus.encode import char_offset, read_blocks, scan_text
from rnnkit.data.text.readers import TextFileError
from rnnkit.data.text.tokenize import Tokenizer


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(encode, "BLOCK_BYTES", 7)  # every multi-byte character crosses some


def test_blocks_give_the_text_exactly(tmp_path, small_blocks, mixed_text):
    path = tmp_path / "a.txt"
    path.write_bytes((mixed_text * 3).encode())
    scan = scan_text(path)
    assert scan.num_chars == len(mixed_text) * 3 and scan.start == 0
    assert "".join(read_blocks(str(path), 0, scan.size)) == mixed_text * 3
    k = len(mixed_text) + 30
    middle = char_offset(scan, k)
    assert "".join(read_blocks(str(path), middle, scan.size)) == (mixed_text * 3)[k:]
    assert char_offset(scan, scan.num_chars) == scan.size


def test_cut_blocks_split_no_token(tmp_path, small_blocks, mixed_text):
    text = (mixed_text + "it's a   test, again\n\nand \t again ") * 4
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode())
    blocks = list(read_blocks(str(path), 0, scan_text(path).size, cut=True))
    assert len(blocks) > 5 and "".join(blocks) == text
    word = Tokenizer("word", keep_whitespace=True)
    bpe = Tokenizer("subword", keep_whitespace=True).fit([text], vocab_size=300)
    for tok in (word, bpe):
        assert [t for b in blocks for t in tok(b)] == tok(text)


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfab\n")
    scan = scan_text(path)
    assert scan.start == 3 and scan.num_chars == 3
    assert "".join(read_blocks(str(path), scan.start, scan.size)) == "ab\n"


def test_bytes_that_are_not_utf8_are_named_with_offset_and_line(tmp_path, small_blocks):
    path = tmp_path / "gbk.txt"
    path.write_bytes(b"line one\nline two\n" + "中文".encode("gbk") + b"\n")
    with pytest.raises(TextFileError, match=r"gbk.txt: expected UTF-8 text, found the byte "
                       r"0xd6 at byte offset 18 \(line 3\)"):
        list(read_blocks(str(path), 0, path.stat().st_size))
    cut = tmp_path / "cut.txt"
    cut.write_bytes(b"abcdef\n" + "中".encode()[:2])  # the file ends mid-character
    with pytest.raises(TextFileError, match=r"0xe4 at byte offset 7 \(line 2\)"):
        list(read_blocks(str(cut), 0, cut.stat().st_size))


def test_an_empty_text_is_refused(tmp_path):
    for raw in (b"", b"\xef\xbb\xbf"):
        path = tmp_path / "empty.txt"
        path.write_bytes(raw)
        with pytest.raises(TextFileError, match="empty.txt: the text is empty"):
            scan_text(path)
