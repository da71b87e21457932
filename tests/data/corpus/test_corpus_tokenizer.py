"""The tokenizer's verbatim mode (keep_whitespace) and decode, which the corpus source uses."""

import pytest

from rnnkit.data.text.tokenize import Tokenizer


def test_char_keeps_every_character_and_decodes_exactly(mixed_text):
    tok = Tokenizer("char", keep_whitespace=True)
    assert tok("a  b\n\tc") == ["a", " ", " ", "b", "\n", "\t", "c"]
    assert tok.decode(tok(mixed_text)) == mixed_text
    assert Tokenizer("char", keep_whitespace=True, lowercase=True)("Ab\n") == ["a", "b", "\n"]


def test_subword_is_byte_level_and_decodes_exactly(mixed_text):
    tok = Tokenizer("subword", keep_whitespace=True).fit([mixed_text * 3], vocab_size=300)
    pieces = tok(mixed_text)
    assert len(pieces) < len(mixed_text) and tok.decode(pieces) == mixed_text
    other = "unseen: Ωmega  \n\n 🎉"  # characters never seen in training are bytes, not <unk>
    assert tok.decode(tok(other)) == other
    again = Tokenizer.from_state(tok.state())
    assert again(mixed_text) == pieces and again.decode(pieces) == mixed_text


def test_word_keeps_newlines_and_single_spaces():
    tok = Tokenizer("word", keep_whitespace=True)
    assert tok("a b\nc") == ["a", "b", "\n", "c"]
    assert tok.decode(tok("a b\nc")) == "a b\nc"
    assert tok.decode(tok("Hello, world!\n\nNew line.\n")) == "Hello , world !\n\nNew line .\n"
    assert tok.decode(tok("a  b \n c")) == "a b\nc"  # other whitespace: one space


def test_decode_drops_pad_and_marks_unknown_tokens():
    assert Tokenizer("char", keep_whitespace=True).decode(["a", "<pad>", "<unk>", "b"]) == \
        "a\ufffdb"
    assert Tokenizer("word", keep_whitespace=True).decode(["a", "<unk>", "\n", "<pad>"]) == \
        "a <unk>\n"
    tok = Tokenizer("subword", keep_whitespace=True).fit(["ab ab"], vocab_size=260)
    assert tok.decode(["a", "<unk>", "Ġb"]) == "a<unk> b"


def test_decode_without_keep_whitespace_is_best_effort():
    assert Tokenizer("char").decode(Tokenizer("char")("a  b")) == "a b"
    assert Tokenizer("word").decode(["a", "b"]) == "a b"
    bigrams = Tokenizer("char", ngram=2)
    assert bigrams.decode(bigrams("这本书")) == "这本书"


def test_keep_whitespace_is_in_the_state():
    tok = Tokenizer("word", keep_whitespace=True)
    assert tok.state()["keep_whitespace"] is True
    assert Tokenizer.from_state(tok.state())("a\nb") == ["a", "\n", "b"]
    old = {k: v for k, v in Tokenizer("char").state().items() if k != "keep_whitespace"}
    assert Tokenizer.from_state(old).keep_whitespace is False  # a state of an earlier rnnkit
    with pytest.raises(ValueError, match="ngram must be 1 with keep_whitespace"):
        Tokenizer("char", ngram=2, keep_whitespace=True)
