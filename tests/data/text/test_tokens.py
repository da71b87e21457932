"""Tokenizers and the vocabulary."""

import numpy as np
import pytest

from rnnkit.data.text.tokenize import Tokenizer
from rnnkit.data.text.vocab import PAD_ID, UNK_ID, Vocabulary


def test_char_tokens_keep_one_space():
    assert Tokenizer("char")("这本书  很好") == ["这", "本", "书", " ", "很", "好"]
    assert Tokenizer("char", lowercase=True)("Ab") == ["a", "b"]


def test_word_tokens_and_pattern():
    assert Tokenizer("word")("It's GOOD, really!") == ["It", "'", "s", "GOOD", ",", "really",
                                                       "!"]
    assert Tokenizer("word", lowercase=True, pattern=r"[a-z]+")("It's GOOD") == \
        ["it", "s", "good"]
    with pytest.raises(ValueError, match="is not a regex"):
        Tokenizer("word", pattern="(")


def test_subword_is_trained_and_round_trips_through_its_state():
    texts = ["the cat sat on the mat", "the cat ate", "a mat and a hat"] * 20
    tok = Tokenizer("subword").fit(texts, vocab_size=40, min_count=1)
    pieces = tok("the cat sat")
    assert "".join(pieces).replace("##", "") == "thecatsat"
    again = Tokenizer.from_state(tok.state())
    assert again("the cat sat") == pieces and again.state() == tok.state()
    with pytest.raises(RuntimeError, match="not trained"):
        Tokenizer("subword")("x")


def test_vocabulary_counts_and_limits():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], min_count=2)
    assert vocab.tokens == ["<pad>", "<unk>", "b", "a"]
    assert Vocabulary.build([["b", "a", "b"], ["a", "c"]], max_size=3).tokens == \
        ["<pad>", "<unk>", "a"]  # ties: alphabetical
    ids, unknown = vocab.encode(["a", "zzz", "b"])
    assert ids.tolist() == [3, UNK_ID, 2] and unknown == 1 and ids.dtype == np.int64
    assert PAD_ID == 0
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b"])


def test_char_ngrams_fall_back_to_shorter_ones():
    tok = Tokenizer("char", ngram=2)
    assert tok("这本书") == ["这", "这本", "本书"]
    assert Tokenizer.from_state(tok.state())("ab") == ["a", "ab"]
    vocab = Vocabulary.build([tok("这本书"), tok("这本好")], min_count=2, backoff=True)
    assert set(vocab.tokens[2:]) == {"这", "本", "这本"}  # suffixes count: 本 twice
    ids, unknown = vocab.encode(tok("这本书"), backoff=True)
    assert [vocab.tokens[i] for i in ids] == ["这", "这本", "<unk>"] and unknown == 1
    ids, _ = vocab.encode(["好本"], backoff=True)
    assert vocab.tokens[ids[0]] == "本"  # 好本 unknown -> its suffix 本
    with pytest.raises(ValueError, match="ngram must be 1, or > 1 for the char tokenizer"):
        Tokenizer("word", ngram=2)
