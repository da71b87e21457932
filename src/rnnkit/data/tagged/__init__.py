"""Tagged sentences, a tag on every token (part-of-speech, named entities, word segmentation):
CoNLL columns and word/TAG readers and writers, tag schemes, token features and the data
module (``rnnkit.data.tagged.datamodule``, which imports Lightning)."""

from rnnkit.data.tagged.features import bigrams, char_ids, mean_token_length
from rnnkit.data.tagged.readers import (
    TaggedSentences,
    detect_format,
    read_conll,
    read_slash,
    read_tagged,
    write_conll,
    write_slash,
)
from rnnkit.models.tag_schemes import SCHEMES, tag_order, tag_scheme

__all__ = [
    "SCHEMES",
    "TaggedSentences",
    "bigrams",
    "char_ids",
    "detect_format",
    "mean_token_length",
    "read_conll",
    "read_slash",
    "read_tagged",
    "tag_order",
    "tag_scheme",
    "write_conll",
    "write_slash",
]
