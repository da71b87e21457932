"""Labelled texts: readers (CSV/TSV, one file per class, a folder per class), tokenizers
(characters, words, BPE subwords), the vocabulary, pretrained vectors and the data module."""

from rnnkit.data.text.readers import TextExamples, TextFileError, read_text
from rnnkit.data.text.tokenize import TOKENIZERS, Tokenizer
from rnnkit.data.text.vocab import Vocabulary

__all__ = ["TOKENIZERS", "TextExamples", "TextFileError", "Tokenizer", "Vocabulary", "read_text"]
