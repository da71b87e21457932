"""Tag schemes and their id order; token features (characters of words, bigrams); pieces of
long sentences."""

import numpy as np
import pytest

from rnnkit.data.tagged import bigrams, char_ids, mean_token_length, tag_order, tag_scheme
from rnnkit.data.tagged.batches import piece_bounds
from rnnkit.data.tagged.features import char_vocabulary
from rnnkit.data.tagged.tagset import tags_note
from rnnkit.data.text.vocab import UNK_ID


@pytest.mark.parametrize("tags, scheme, order", [
    (["s", "e", "b", "m"], "BMES", ["b", "m", "e", "s"]),
    (["S", "E", "B"], "BMES", ["B", "E", "S"]),
    (["I-PER", "O", "B-PER", "B-LOC"], "BIO", ["O", "B-LOC", "B-PER", "I-PER"]),
    (["I", "B", "O"], "BIO", ["O", "B", "I"]),
    (["E-PER", "S-LOC", "O", "B-PER", "I-PER"], "BIOES",
     ["O", "B-PER", "E-PER", "I-PER", "S-LOC"]),
    (["NN", "VBZ", "DT", "IN"], "other", ["DT", "IN", "NN", "VBZ"]),
    (["U-PER", "O", "B-PER", "L-PER"], "other", ["B-PER", "L-PER", "O", "U-PER"]),
    (["b", "M", "e", "s"], "other", ["M", "b", "e", "s"]),  # mixed case is no scheme
])
def test_tag_schemes_and_their_order(tags, scheme, order):
    assert tag_scheme(tags) == scheme and tag_order(tags) == order


def test_the_tags_note_names_the_scheme_and_shortens_long_sets():
    assert tags_note(["b", "m", "e", "s"]) == \
        "tags: b, m, e, s (BMES word segmentation: begin, middle, end, single)"
    many = tags_note([f"T{i}" for i in range(20)], shown=3)
    assert many == "tags: T0, T1, T2, ... (20 in all) (no chunk scheme: scored token by token)"


def test_bigrams_pair_each_token_with_the_next():
    assert bigrams(["迈", "向", "新"]) == ["迈向", "向新", "新</s>"]
    assert bigrams(["好"]) == ["好</s>"]
    assert mean_token_length([["ab", "c"], ["defg"]]) == pytest.approx(7 / 3)


def test_char_ids_keep_case_pad_and_cut_words():
    vocab = char_vocabulary([["Abc", "a"], ["b"]])
    ids = char_ids(["Ab", "abcdef", "z"], vocab, max_chars=4)
    assert ids.shape == (3, 4) and ids.dtype == np.int64
    decoded = [[vocab.tokens[i] for i in row if i] for row in ids]
    assert decoded == [["A", "b"], ["a", "b", "c", "<unk>"], ["<unk>"]]
    assert ids[0, 2:].tolist() == [0, 0] and ids[2, 0] == UNK_ID
    assert char_ids(["a", "b"], vocab, max_chars=20).shape == (2, 1)  # the longest token


@pytest.mark.parametrize("length, limit, sizes", [(10, 4, [3, 4, 3]), (1000, 400, [333, 334, 333]),
                                                  (8, 4, [4, 4]), (3, 4, [3])])
def test_long_sentences_are_cut_into_equal_pieces(length, limit, sizes):
    bounds = piece_bounds(length, limit)
    assert [b - a for a, b in bounds] == sizes
    assert bounds[0][0] == 0 and bounds[-1][1] == length
    assert all(a == b for (_, a), (b, _) in zip(bounds, bounds[1:], strict=False))
