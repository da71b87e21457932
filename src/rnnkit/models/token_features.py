"""TokenFeatures: what a tagger reads at each step — a token's embedding, the characters of the
word it is, and the character bigram it starts."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["CharCNN", "TokenFeatures"]


class CharCNN(nn.Module):
    """A word from its characters: character embeddings, a convolution over them and the
    maximum over the word (Ma & Hovy 2016), so a word never seen in training still gets a
    representation from its spelling.

    Args:
        num_chars: characters in the character vocabulary (0 is padding).
        char_dim: features of each character's embedding.
        channels: C_out, features of the word's representation.
        width: characters the convolution spans.

    Inputs: ``chars (N, L, K)`` int64, the K character ids of each of the L words (0 pad).

    Outputs: ``(N, L, C_out)``; a word of only padding (a padded step) gives zeros.
    """

    def __init__(self, num_chars: int, char_dim: int = 30, channels: int = 50,
                 width: int = 3) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, channels, width, padding=width // 2)
        self.output_size = channels

    def forward(self, chars: Tensor) -> Tensor:
        n, length, k = chars.shape
        flat = chars.reshape(n * length, k)  # (N*L, K)
        x = self.conv(self.embedding(flat).transpose(1, 2))  # (N*L, C_out, K)
        x = x.masked_fill((flat == 0)[:, None, :], float("-inf")).amax(dim=-1)
        return torch.nan_to_num(x, neginf=0.0).reshape(n, length, -1)  # all-padding -> 0


class TokenFeatures(nn.Module):
    """The features of each step of a token sequence: ``[embedding(token); CharCNN(chars);
    embedding(bigram)]``, the last two when their vocabularies are given.

    Args:
        vocab_size: V, token ids (0 padding).
        embedding_dim: E, features of a token's embedding.
        num_chars: characters of the character vocabulary, or 0 (no character features).
        char_dim, char_channels: the :class:`CharCNN`'s sizes.
        num_bigrams: bigrams of the bigram vocabulary, or 0 (no bigram features).
        bigram_dim: features of a bigram's embedding.

    Inputs: ``tokens (N, L)`` int64, ``chars (N, L, K)`` or None, ``bigrams (N, L)`` or None.

    Outputs: ``(N, L, output_size)``.

    Example::

        >>> feats = TokenFeatures(100, 16, num_bigrams=50, bigram_dim=8)
        >>> feats(torch.tensor([[4, 5, 6]]), bigrams=torch.tensor([[7, 8, 9]])).shape
        torch.Size([1, 3, 24])
    """

    def __init__(self, vocab_size: int, embedding_dim: int, *, num_chars: int = 0,
                 char_dim: int = 30, char_channels: int = 50, num_bigrams: int = 0,
                 bigram_dim: int = 50) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.chars = CharCNN(num_chars, char_dim, char_channels) if num_chars else None
        self.bigrams = nn.Embedding(num_bigrams, bigram_dim, padding_idx=0) \
            if num_bigrams else None
        self.output_size = embedding_dim + (char_channels if num_chars else 0) + \
            (bigram_dim if num_bigrams else 0)

    def forward(self, tokens: Tensor, chars: Tensor | None = None,
                bigrams: Tensor | None = None) -> Tensor:
        parts = [self.embedding(tokens)]  # (N, L, E)
        for module, ids, name in ((self.chars, chars, "chars"), (self.bigrams, bigrams,
                                                                 "bigrams")):
            if module is not None:
                if ids is None:
                    raise ValueError(f"this model reads {name} features; the batch has none")
                parts.append(module(ids))
        return torch.cat(parts, dim=-1)
