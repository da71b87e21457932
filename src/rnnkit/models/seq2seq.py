"""Seq2Seq: a recurrent encoder, a bridge, and an attentional recurrent decoder that can be
stepped one output token at a time."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.models.attention import ATTENTIONS, Attention
from rnnkit.models.language_model import RecurrentState
from rnnkit.nn import LAYERS

__all__ = ["BRIDGES", "DecoderState", "Seq2Seq"]

BRIDGES = ("linear", "zeros")


@dataclass
class DecoderState:
    """Everything the decoder carries from one output step to the next, for N sequences.

    Attributes:
        rnn: the decoder layer's state, ``h`` or ``(h, c)``, each ``(num_layers, N, H)``.
        feed: ``(N, H)`` the previous step's attentional output (input feeding), or None.
        memory: ``(N, S, C)`` the encoder's outputs; ``keys`` ``(N, S, K)`` their share of the
            attention scores; ``mask`` ``(N, S)`` True on real (not padded) source steps.
        weights: ``(N, S)`` the attention weights of the last step taken, or None.
    """

    rnn: RecurrentState | None
    feed: Tensor | None
    memory: Tensor
    keys: Tensor
    mask: Tensor
    weights: Tensor | None = None

    def select(self, index: Tensor) -> DecoderState:
        """The state of the sequences ``index`` ``(B,)`` (repeats allowed: beam search copies
        and reorders its hypotheses with this)."""
        def rows(t: Tensor | None, dim: int = 0) -> Tensor | None:
            return None if t is None else t.index_select(dim, index)

        if self.rnn is None or isinstance(self.rnn, Tensor):
            rnn = rows(self.rnn, 1)  # (num_layers, B, H)
        else:
            rnn = tuple(s.index_select(1, index) for s in self.rnn)
        return DecoderState(rnn, rows(self.feed), rows(self.memory), rows(self.keys),
                            rows(self.mask), rows(self.weights))


class Seq2Seq(nn.Module):
    r"""Encoder-decoder with attention (Bahdanau et al. 2015; Luong et al. 2015).

    ``source (N, S) -> embedding -> encoder (any rnnkit.nn layer, one or two directions,
    lengths) -> outputs (N, S, C)``, ``C = D*H``; a bridge maps the encoder's final states
    (both directions of each layer side by side) to the decoder's initial ones:
    :math:`s_0 = \tanh(W_b [h^{fwd}_S; h^{bwd}_1])` per state (``h``, and ``c`` for LSTM-like
    cells; a decoder state the encoder lacks is made from its ``h``), aligned from the top
    layer down when the layer counts differ; ``bridge="zeros"`` starts from zeros. At output
    step t the decoder reads the previous target token (with input feeding also
    :math:`\tilde h_{t-1}`):

    .. math::
        h_t = \text{RNN}([E y_{t-1}; \tilde h_{t-1}], h_{t-1}), \quad
        c_t = \text{Attention}(h_t, \text{outputs}), \quad
        \tilde h_t = \tanh(W_c [c_t; h_t]), \quad \text{logits}_t = W_o \tilde h_t

    (``attention="none"``: :math:`\tilde h_t = h_t`, the encoder-decoder of Cho et al. 2014.)
    Padded source steps reach neither the encoder's states nor any attention weight.

    Args:
        source_vocab_size, target_vocab_size: V_s and V_t (id 0 is padding on both sides).
        embedding_dim: E, features of each token's embedding (both sides).
        cell, hidden_size, num_layers, bidirectional: the encoder (a key of
            :data:`rnnkit.nn.LAYERS`; H per direction; D = 2 when bidirectional).
        decoder_cell, decoder_hidden_size, decoder_layers: the decoder (defaults: the
            encoder's cell, D*H, the encoder's layers).
        attention: ``"general"``, ``"dot"``, ``"additive"`` (:class:`Attention`) or ``"none"``.
        input_feeding: feed :math:`\tilde h_{t-1}` into the decoder's input (Luong et al.).
        bridge: ``"linear"`` or ``"zeros"``.
        dropout: between stacked layers (both sides); ``embedding_dropout`` on the embeddings;
            ``output_dropout`` on :math:`\tilde h_t`.
        path: the rnnkit.nn execution path.

    Inputs (forward): ``source (N, S)`` int64, ``lengths (N,)`` or None, ``target_in (N, T)``
    int64 (``<s>`` then the target without its last token), ``teacher_forcing`` the chance
    that step t reads the true token rather than the model's own best guess (1: always).

    Outputs (forward): ``logits (N, T, V_t), weights (N, T, S)`` (weights None without
    attention).

    Example::

        >>> import torch
        >>> model = Seq2Seq(10, 12, embedding_dim=8, hidden_size=16).eval()
        >>> source, lengths = torch.tensor([[4, 5, 6], [7, 8, 0]]), torch.tensor([3, 2])
        >>> logits, weights = model(source, lengths, torch.tensor([[2, 5], [2, 6]]))
        >>> logits.shape, weights.shape
        (torch.Size([2, 2, 12]), torch.Size([2, 2, 3]))
        >>> state = model.encode(source, lengths)
        >>> step_logits, state = model.step(torch.tensor([2, 2]), state)  # one token each
        >>> torch.allclose(step_logits, logits[:, 0], atol=1e-5)
        True
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        *,
        embedding_dim: int = 128,
        cell: str = "lstm",
        hidden_size: int = 256,
        num_layers: int = 1,
        bidirectional: bool = True,
        decoder_cell: str | None = None,
        decoder_hidden_size: int | None = None,
        decoder_layers: int | None = None,
        attention: str = "general",
        input_feeding: bool = False,
        bridge: str = "linear",
        dropout: float = 0.0,
        embedding_dropout: float = 0.0,
        output_dropout: float = 0.0,
        path: str = "auto",
    ) -> None:
        super().__init__()
        decoder_cell = decoder_cell or cell
        for name, value in (("cell", cell), ("decoder_cell", decoder_cell)):
            if value not in LAYERS:
                raise ValueError(f"{name} must be one of {', '.join(LAYERS)}, got {value!r}")
        if attention not in (*ATTENTIONS, "none"):
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)} or none, got "
                             f"{attention!r}")
        if bridge not in BRIDGES:
            raise ValueError(f"bridge must be one of {', '.join(BRIDGES)}, got {bridge!r}")
        if input_feeding and attention == "none":
            raise ValueError("input_feeding feeds the attentional output back: it needs "
                             "attention")
        directions = 2 if bidirectional else 1
        memory = directions * hidden_size  # C
        dec_hidden = decoder_hidden_size or memory
        dec_layers = decoder_layers or num_layers
        self.attention_kind, self.input_feeding = attention, input_feeding
        self.source_embedding = nn.Embedding(source_vocab_size, embedding_dim, padding_idx=0)
        self.target_embedding = nn.Embedding(target_vocab_size, embedding_dim, padding_idx=0)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.encoder = LAYERS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                                    dropout=dropout, bidirectional=bidirectional, path=path)
        self.decoder = LAYERS[decoder_cell](
            embedding_dim + (dec_hidden if input_feeding else 0), dec_hidden, dec_layers,
            batch_first=True, dropout=dropout, path=path)
        enc_names = self.encoder.specs[0].state_names
        dec_names = self.decoder.specs[0].state_names
        # Decoder state i is made from the encoder's state of the same name, else from its h.
        self._bridge_from = [enc_names.index(n) if n in enc_names else 0 for n in dec_names]
        self.bridge = nn.ModuleList(
            nn.Linear(directions * self.encoder.state_sizes[k], size)
            for k, size in zip(self._bridge_from, self.decoder.state_sizes, strict=True)
        ) if bridge == "linear" else None
        self.attention = None if attention == "none" else Attention(attention, dec_hidden,
                                                                     memory)
        self.combine = None if attention == "none" else nn.Linear(memory + dec_hidden,
                                                                  dec_hidden)
        self.output_dropout = nn.Dropout(output_dropout)
        self.output = nn.Linear(dec_hidden, target_vocab_size)
        self.memory_size, self.decoder_hidden_size = memory, dec_hidden

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ---- encoder and bridge ------------------------------------------------------------------
    def encode(self, source: Tensor, lengths: Tensor | None = None) -> DecoderState:
        """Read the sources: the decoder's state before its first step.

        Inputs: ``source (N, S)`` int64 ids (0 = padding), ``lengths (N,)`` or None (all S).
        """
        if source.dim() != 2 or source.is_floating_point():
            raise ValueError(f"expected source token ids of shape (N, S), int64, found "
                             f"{tuple(source.shape)} {source.dtype}")
        n, s = source.shape
        if lengths is None:
            lengths = torch.full((n,), s, dtype=torch.long, device=source.device)
        lengths = torch.as_tensor(lengths, device=source.device).long()
        x = self.embedding_dropout(self.source_embedding(source))  # (N, S, E)
        memory, finals = self.encoder(x, lengths=lengths)  # (N, S, C), zero on padding
        mask = torch.arange(s, device=source.device)[None] < lengths[:, None]  # (N, S)
        keys = memory if self.attention is None else self.attention.keys(memory)
        feed = memory.new_zeros(n, self.decoder_hidden_size) if self.input_feeding else None
        return DecoderState(self._bridge(finals), feed, memory, keys, mask)

    def _bridge(self, finals: RecurrentState) -> RecurrentState | None:
        if self.bridge is None:
            return None
        finals = (finals,) if isinstance(finals, Tensor) else tuple(finals)
        enc_layers, dec_layers = self.encoder.num_layers, self.decoder.num_layers
        directions = self.encoder.num_directions
        top = [min(max(layer + enc_layers - dec_layers, 0), enc_layers - 1)
               for layer in range(dec_layers)]  # the encoder layer each decoder layer reads
        states = []
        for k, linear in zip(self._bridge_from, self.bridge, strict=True):
            s = finals[k]  # (L*D, N, H), layer-major
            s = s.view(enc_layers, directions, *s.shape[1:])  # (L, D, N, H)
            s = torch.cat(tuple(s[top, d] for d in range(directions)), dim=-1)  # (L', N, D*H)
            states.append(torch.tanh(linear(s)))  # (L', N, H_dec)
        return states[0] if len(states) == 1 else tuple(states)

    # ---- decoder ----------------------------------------------------------------------------
    def _attend(self, out: Tensor, state: DecoderState) -> tuple[Tensor, Tensor | None]:
        """``(N, [T,] H)`` decoder outputs -> attentional outputs of the same shape, weights."""
        if self.attention is None:
            return out, None
        context, weights = self.attention(out, state.keys, state.memory, state.mask)
        return torch.tanh(self.combine(torch.cat([context, out], dim=-1))), weights

    def step(self, tokens: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """One output step for every sequence: the logits of the next token.

        O(1) work per step (:meth:`rnnkit.nn.RecurrentLayer.step`); what :meth:`forward`
        computes at that step.

        Inputs: ``tokens (N,)`` int64, the previous output token (``<s>`` first);
        ``state`` from :meth:`encode` or the previous step.

        Outputs: ``logits (N, V_t)``, the new state (its ``weights`` ``(N, S)``: where this
        step looked).
        """
        if tokens.dim() != 1 or tokens.is_floating_point():
            raise ValueError(f"expected one token id per sequence, (N,) int64, found "
                             f"{tuple(tokens.shape)} {tokens.dtype}")
        x = self.embedding_dropout(self.target_embedding(tokens))  # (N, E)
        if self.input_feeding:
            x = torch.cat([x, state.feed], dim=-1)  # (N, E + H)
        out, rnn_state = self.decoder.step(x, state.rnn)  # (N, H)
        attended, weights = self._attend(out, state)  # (N, H), (N, S)
        logits = self.output(self.output_dropout(attended))  # (N, V_t)
        feed = attended if self.input_feeding else None
        return logits, dataclasses.replace(state, rnn=rnn_state, feed=feed, weights=weights)

    def forward(
        self, source: Tensor, lengths: Tensor | None, target_in: Tensor,
        teacher_forcing: float = 1.0,
    ) -> tuple[Tensor, Tensor | None]:
        if target_in.dim() != 2 or target_in.is_floating_point():
            raise ValueError(f"expected target token ids of shape (N, T), int64, found "
                             f"{tuple(target_in.shape)} {target_in.dtype}")
        state = self.encode(source, lengths)
        if teacher_forcing >= 1 and not self.input_feeding:
            # Every input token is known: the decoder reads the whole target at once.
            x = self.embedding_dropout(self.target_embedding(target_in))  # (N, T, E)
            out, _ = self.decoder(x, state.rnn)  # (N, T, H)
            attended, weights = self._attend(out, state)  # (N, T, H), (N, T, S)
            return self.output(self.output_dropout(attended)), weights  # (N, T, V_t)
        logits, weights = [], []
        tokens = target_in[:, 0]
        for t in range(target_in.shape[1]):
            step_logits, state = self.step(tokens, state)  # (N, V_t)
            logits.append(step_logits)
            weights.append(state.weights)
            if t + 1 < target_in.shape[1]:
                tokens = target_in[:, t + 1]
                if teacher_forcing < 1:  # scheduled sampling: some steps read the guess
                    guess = step_logits.argmax(-1)
                    own = torch.rand(tokens.shape, device=tokens.device) >= teacher_forcing
                    tokens = torch.where(own & (tokens != 0), guess, tokens)
        stacked = None if self.attention is None else torch.stack(weights, dim=1)
        return torch.stack(logits, dim=1), stacked  # (N, T, V_t), (N, T, S)
