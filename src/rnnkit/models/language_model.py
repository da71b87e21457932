"""LanguageModel: next-token prediction with a recurrent stack (AWD-LSTM's regularizers)."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.nn import LAYERS

__all__ = ["LanguageModel", "RecurrentState"]

RecurrentState = Tensor | tuple[Tensor, ...]
"""A recurrent layer's state: ``h``, or ``(h, c)`` for LSTM-like cells, each (num_layers, N, H)."""


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _check_rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


class LanguageModel(nn.Module):
    r"""Next-token language model: ``tokens -> embedding -> recurrent stack -> logits``.

    ``tokens (N, L) -> embedding (N, L, E) -> rnnkit.nn layer (N, L, H) -> [projection
    (N, L, E)] -> decoder (N, L, V)``: the logits at step t score the token at step t + 1. The
    state the stack ends with can start the next batch (truncated backpropagation through time:
    pass it through :meth:`detach_state` first), and :meth:`step` reads one token at a time for
    generation, O(1) work per token.

    The regularizers are AWD-LSTM's (Merity et al. 2017), each 0 (off) by default and acting in
    training only: ``embedding_dropout`` drops whole rows of the embedding matrix (every
    occurrence of a word type in the batch, scaled by ``1/(1-p)``); ``input_dropout``,
    ``recurrent_dropout`` and ``weight_drop`` are the recurrent layer's
    (:mod:`rnnkit.nn.regularizers`); ``dropout`` acts between stacked layers and
    ``output_dropout`` on the top layer's outputs.

    With ``tie_weights`` the decoder's weight is the embedding matrix itself (Press & Wolf
    2017), which saves V*H parameters and usually improves perplexity. Its rows have E
    features, so when H != E a bias-free ``Linear(H, E)`` projection maps the top layer's
    outputs to E first (a bias there would be redundant: the decoder's own bias absorbs it).

    Args:
        vocab_size: V, the tokens the model reads and predicts.
        cell: a key of :data:`rnnkit.nn.LAYERS` (``"lstm"``, ``"gru"``, ``"rnn"``,
            ``"layernorm_lstm"``, ``"mingru"``, ...). Default ``"lstm"``.
        embedding_dim: E, features of each token's embedding. Default 256.
        hidden_size: H, units of each recurrent layer. Default 256.
        num_layers: stacked recurrent layers. Default 2.
        dropout: dropout on the output of every recurrent layer but the last. Default 0.
        embedding_dropout: probability of dropping a word type (a row of the embedding
            matrix) for one forward pass. Default 0.
        input_dropout, recurrent_dropout, weight_drop: the recurrent layer's regularizers,
            passed on when > 0 (a cell without a recurrent product, MinGRU and MinLSTM, takes
            neither ``recurrent_dropout`` nor ``weight_drop``: ValueError). Default 0.
        output_dropout: dropout on the top layer's outputs, before the decoder. Default 0.
        tie_weights: share the embedding matrix with the decoder. Default False.

    Inputs: ``tokens, state=None``
        * **tokens**: ``(N, L)`` int64 token ids in ``[0, V)``.
        * **state**: the state to start from, ``h`` or ``(h, c)`` (LSTM-like cells), each
          ``(num_layers, N, H)``; zeros when None.

    Outputs: ``logits, state``
        * **logits**: ``(N, L, V)``, unnormalised scores of the next token at every step.
        * **state**: the final state, shaped like the input state.

    Attributes:
        embedding: the ``nn.Embedding(V, E)``, initialised uniform in [-0.1, 0.1].
        rnn: the recurrent layer (``batch_first=True``); ``rnn.weight_drop``, ... its
            regularizers.
        output_dropout: the ``nn.Dropout`` on the top layer's outputs.
        projection: the ``Linear(H, E, bias=False)`` before a tied decoder when H != E, else
            None.
        decoder: the ``Linear(E if tied else H, V)`` to the logits; its bias starts at 0, and
            with ``tie_weights`` its weight is ``embedding.weight`` (the same Parameter).
        embedding_dropout: the rate of dropped word types (a float).
        num_parameters: the number of distinct parameters (a tied matrix counts once).

    Example::

        >>> import torch
        >>> model = LanguageModel(100, cell="gru", embedding_dim=16, hidden_size=32,
        ...                       tie_weights=True)
        >>> logits, state = model(torch.randint(0, 100, (4, 7)))  # (N, L) ids
        >>> logits.shape, state.shape  # (N, L, V), (num_layers, N, H)
        (torch.Size([4, 7, 100]), torch.Size([2, 4, 32]))
        >>> model.projection  # H != E: the tied decoder reads E features
        Linear(in_features=32, out_features=16, bias=False)
        >>> logits, state = model.step(torch.tensor([5, 6, 7, 8]), state)  # one token each
        >>> logits.shape
        torch.Size([4, 100])
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        cell: str = "lstm",
        embedding_dim: int = 256,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
        embedding_dropout: float = 0.0,
        input_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        output_dropout: float = 0.0,
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        if cell not in LAYERS:
            raise ValueError(f"cell must be one of {', '.join(LAYERS)}, got {cell!r}")
        for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim),
                            ("hidden_size", hidden_size)):
            _check_positive(name, value)
        self.vocab_size = vocab_size
        self.cell = cell
        self.tie_weights = bool(tie_weights)
        self.embedding_dropout = _check_rate("embedding_dropout", embedding_dropout)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)

        regularizers = {name: value for name, value in (
            ("input_dropout", input_dropout), ("recurrent_dropout", recurrent_dropout),
            ("weight_drop", weight_drop)) if value != 0}
        try:
            self.rnn = LAYERS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                                    dropout=dropout, **regularizers)
        except ValueError as error:
            given = "".join(f", {name}={value!r}" for name, value in regularizers.items())
            raise ValueError(f"LanguageModel(cell={cell!r}{given}): {error}") from error

        self.output_dropout = nn.Dropout(_check_rate("output_dropout", output_dropout))
        features = self.rnn.output_size  # H
        self.projection: nn.Linear | None = None
        if self.tie_weights and features != embedding_dim:
            self.projection = nn.Linear(features, embedding_dim, bias=False)
        self.decoder = nn.Linear(embedding_dim if self.tie_weights else features, vocab_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Embedding (and an untied decoder weight) uniform in [-0.1, 0.1]; decoder bias 0."""
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        if self.tie_weights:
            self.decoder.weight = self.embedding.weight
        else:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    @property
    def num_parameters(self) -> int:
        """The number of distinct parameters (the tied matrix counts once)."""
        return sum(p.numel() for p in self.parameters())

    def _check_tokens(self, tokens: Tensor, shape: str, dim: int) -> None:
        if not isinstance(tokens, Tensor) or tokens.dim() != dim or tokens.is_floating_point():
            found = (f"{tuple(tokens.shape)} {tokens.dtype}" if isinstance(tokens, Tensor)
                     else type(tokens).__name__)
            raise ValueError(f"LanguageModel: expected token ids of shape {shape}, int64, "
                             f"found {found}")

    def embed(self, tokens: Tensor) -> Tensor:
        """The embeddings ``(*, E)`` of token ids ``(*)``, with embedding dropout in training.

        One mask per call over the V word types: a dropped type is zero at every position,
        the others are scaled by ``1/(1-p)`` (the same as masking rows of the matrix).
        """
        x = self.embedding(tokens)  # (*, E)
        p = self.embedding_dropout
        if not self.training or p == 0:
            return x
        weight = self.embedding.weight
        keep = weight.new_empty(self.vocab_size).bernoulli_(1 - p) / (1 - p)  # (V,)
        return x * keep[tokens].unsqueeze(-1)

    def _logits(self, out: Tensor) -> Tensor:
        """Logits ``(*, V)`` from the top layer's outputs ``(*, H)``."""
        out = self.output_dropout(out)
        if self.projection is not None:
            out = self.projection(out)  # (*, E)
        return self.decoder(out)  # (*, V)

    def forward(
        self, tokens: Tensor, state: RecurrentState | None = None
    ) -> tuple[Tensor, RecurrentState]:
        self._check_tokens(tokens, "(N, L)", 2)
        out, state = self.rnn(self.embed(tokens), state)  # (N, L, H)
        return self._logits(out), state  # (N, L, V)

    def step(
        self, tokens: Tensor, state: RecurrentState | None = None
    ) -> tuple[Tensor, RecurrentState]:
        """One token per sequence: logits ``(N, V)`` of the next one, and the new state.

        What :meth:`forward` computes at that step, in O(1) work
        (:meth:`rnnkit.nn.RecurrentLayer.step`).

        Inputs: ``tokens (N,)`` int64 ids; ``state`` as for :meth:`forward` (zeros when None).

        Outputs: ``logits (N, V), state``.
        """
        self._check_tokens(tokens, "(N,)", 1)
        out, state = self.rnn.step(self.embed(tokens), state)  # (N, H)
        return self._logits(out), state  # (N, V)

    @staticmethod
    def detach_state(state: RecurrentState | None) -> RecurrentState | None:
        """``state`` cut from the graph that made it (truncated BPTT): a tensor, a tuple of
        tensors, or None."""
        if state is None:
            return None
        if isinstance(state, Tensor):
            return state.detach()
        return tuple(s.detach() for s in state)
