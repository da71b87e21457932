"""Reading a long text in blocks: exact text, safe cuts, the errors that name the place, and
the cached vocabulary and ids, those of the tokenizer and Vocabulary.build."""

import numpy as np
import pytest

from rnnkit.data.corpus import encode
from rnnkit.data.corpus.encode import (
    cached_tokens,
    cached_vocabulary,
    char_offset,
    read_blocks,
    scan_text,
)
from rnnkit.data.text.readers import TextFileError
from rnnkit.data.text.tokenize import Tokenizer
from rnnkit.data.text.vocab import UNK_ID, Vocabulary


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


@pytest.mark.parametrize("kind", ["char", "word"])
@pytest.mark.parametrize(("lowercase", "min_count", "max_vocab"),
                         [(False, 1, 0), (True, 2, 0), (False, 1, 12)])
def test_cached_ids_are_the_tokenizers_and_the_vocabularys(tmp_path, small_blocks, mixed_text,
                                                           kind, lowercase, min_count,
                                                           max_vocab):
    text = mixed_text * 3 + "İstanbul ΣΑΣ Straße K <unk> 😀😀\n"
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode())
    scan = scan_text(path)
    train_end = char_offset(scan, len(mixed_text) * 2)  # the rest holds unknown tokens
    tokenizer = Tokenizer(kind, lowercase=lowercase, keep_whitespace=True)
    tokenizer, vocabulary = cached_vocabulary(scan, 0, train_end, tokenizer, subword_vocab=0,
                                              min_count=min_count, max_vocab=max_vocab,
                                              directory=tmp_path / "cache")
    expected = Vocabulary.build([tokenizer(mixed_text * 2)], min_count=min_count,
                                max_size=max_vocab)
    assert vocabulary.tokens == expected.tokens
    tokens = cached_tokens(scan, 0, scan.size, tokenizer, vocabulary, tmp_path / "cache")
    ids = [vocabulary.index.get(t, UNK_ID) for t in tokenizer(text)]
    np.testing.assert_array_equal(tokens.array(), ids)
    assert tokens.unknown == ids.count(UNK_ID) > 0
