"""TokenText: token ids back to text on either side of a seq2seq run, as its tokenizers
write them."""

from __future__ import annotations

from collections.abc import Sequence

from rnnkit.data.info import DataInfo
from rnnkit.data.pairs.batches import BOS, EOS
from rnnkit.data.text.tokenize import PAD, UNK, Tokenizer

__all__ = ["TokenText"]


class TokenText:
    """The texts of source and target ids of ``info``'s data: each side's tokenizer (saved in
    ``info.state`` as ``source_tokenizer`` and ``target_tokenizer``) decodes its tokens
    (characters joined, words and phonemes with spaces between them); padding and the start
    and end tokens are left out, an id the vocabulary lacks (-1) reads as ``<unk>``."""

    def __init__(self, info: DataInfo) -> None:
        state = info.state
        self.sides = {
            side: (list(vocab), Tokenizer.from_state(state[f"{side}_tokenizer"])
                   if f"{side}_tokenizer" in state else Tokenizer("word"))
            for side, vocab in (("source", info.vocabulary), ("target", info.target_vocabulary))
        }

    def tokens(self, side: str, ids: Sequence[int]) -> list[str]:
        """The tokens of ``ids`` (padding, ``<s>`` and ``</s>`` left out)."""
        vocab, _ = self.sides[side]
        return [vocab[i] if 0 <= i < len(vocab) else UNK for i in ids
                if not (0 <= i < len(vocab) and vocab[i] in (PAD, BOS, EOS))]

    def source(self, ids: Sequence[int]) -> str:
        return self.sides["source"][1].decode(self.tokens("source", ids))

    def target(self, ids: Sequence[int]) -> str:
        return self.sides["target"][1].decode(self.tokens("target", ids))
