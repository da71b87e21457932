"""Text from a trained language model: a prompt in, text out as it is made.

The prompt runs once through the model to warm its state; then every new token is one step of
the recurrent stack (:meth:`~rnnkit.models.language_model.LanguageModel.step`), O(1) work per
token (:func:`~rnnkit.models.decoding.stream_tokens`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from rnnkit.data.text.tokenize import UNK, Tokenizer
from rnnkit.data.text.vocab import PAD_ID, UNK_ID, Vocabulary
from rnnkit.models.decoding import check_sampling, stream_tokens
from rnnkit.models.language_model import LanguageModel

__all__ = ["Sampling", "TextSampler", "seeded_generator"]

_REPLACEMENT = "\ufffd"  # a byte-level piece that is not a whole character yet


@dataclass(frozen=True)
class Sampling:
    """How each next token is chosen: ``temperature`` 0 is greedy; ``top_k`` 0 and ``top_p``
    1 keep every token."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    def __post_init__(self) -> None:
        check_sampling(self.temperature, self.top_k, self.top_p)


def seeded_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator seeded with ``seed`` (the same seed, the same text), or at random (None)."""
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


class TextSampler:
    """Generates text from ``model`` with the training data's tokenizer and vocabulary.

    Args:
        model: the language model (put in eval mode here).
        tokenizer_state: the data state's ``tokenizer`` (:meth:`Tokenizer.state`).
        vocabulary: the V tokens in id order.
    """

    def __init__(self, model: LanguageModel, tokenizer_state: dict, vocabulary: list[str]):
        self.model = model.eval()
        self.tokenizer = Tokenizer.from_state(tokenizer_state)
        self.vocabulary = Vocabulary(vocabulary)

    def encode_prompt(self, prompt: str) -> list[int]:
        """The prompt's token ids. An empty prompt starts from a line break (or, when the text
        had none, its most frequent token).

        Raises:
            ValueError: the prompt holds tokens the training text never had; they are named
                (mapping them to ``<unk>`` would condition the model on nothing it learnt).
        """
        if not prompt:
            start = self.vocabulary.index.get("\n", 2 if len(self.vocabulary) > 2 else UNK_ID)
            return [start]
        tokens = self.tokenizer(prompt)
        unknown = sorted({t for t in tokens if t not in self.vocabulary.index or t == UNK})
        if unknown:
            shown = ", ".join(repr(t) for t in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            kind = {"char": "characters", "word": "words"}.get(self.tokenizer.kind, "tokens")
            raise ValueError(f"the prompt holds {kind} the model never saw in training: {shown} "
                             f"(its vocabulary has {len(self.vocabulary) - 2:,} {kind}); "
                             "leave them out")
        return [self.vocabulary.index[t] for t in tokens]

    def prompt_text(self, ids: list[int]) -> str:
        """The prompt as the model reads it (the tokenizer's spelling of ``ids``)."""
        return self.tokenizer.decode([self.vocabulary.tokens[i] for i in ids])

    @torch.inference_mode()
    def stream(self, prompt: str, length: int, sampling: Sampling = Sampling(),
               generator: torch.Generator | None = None) -> Iterator[str]:
        """The text after ``prompt``, piece by piece as tokens are made (``length`` tokens).

        Pieces join to the decoded continuation; a byte-level piece that is part of a
        character is held back until the character is whole.
        """
        ids = self.encode_prompt(prompt)
        device = next(self.model.parameters()).device
        prompt_ids = torch.tensor(ids, dtype=torch.long, device=device)
        tokens = [self.vocabulary.tokens[i] for i in ids]
        shown = len(self.tokenizer.decode(tokens))
        for token_id in stream_tokens(
                self.model.step, prompt_ids, length, warm=self.model,
                temperature=sampling.temperature, top_k=sampling.top_k,
                top_p=sampling.top_p, generator=generator, banned=(PAD_ID, UNK_ID)):
            tokens.append(self.vocabulary.tokens[token_id])
            text = self.tokenizer.decode(tokens)
            stable = len(text.rstrip(_REPLACEMENT)) if self.tokenizer.kind == "subword" \
                else len(text)
            if stable > shown:
                yield text[shown:stable]
                shown = stable
        text = self.tokenizer.decode(tokens)
        if len(text) > shown:
            yield text[shown:]

    def sample(self, prompt: str, length: int, sampling: Sampling = Sampling(),
               seed: int | None = None) -> str:
        """The whole continuation of ``prompt`` at once (seeded: the same seed, the same text)."""
        generator = seeded_generator(seed, next(self.model.parameters()).device)
        return "".join(self.stream(prompt, length, sampling, generator))
