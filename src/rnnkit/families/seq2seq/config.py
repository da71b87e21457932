"""The seq2seq family's ``model:`` section: an encoder-decoder with attention, and how it
decodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.config.section import ConfigError, Section, check_layer_dropout, option
from rnnkit.models.attention import ATTENTIONS
from rnnkit.models.seq2seq import BRIDGES
from rnnkit.nn import LAYERS

__all__ = ["CONFIG", "DECODING_KEYS", "Seq2SeqConfig"]

# How a trained model decodes: evaluate and predict may change these (rnnkit predict --beam K).
DECODING_KEYS = ("beam_size", "nbest", "length_penalty", "max_length_ratio", "max_length_extra")


@dataclass(frozen=True)
class Seq2SeqConfig(Section):
    """The encoder-decoder (:class:`~rnnkit.models.seq2seq.Seq2Seq`): an encoder over the
    source tokens, a bridge to the decoder's first state, a decoder that attends to every
    source step, and the decoding (greedy or beam search) of validation, test and predict."""

    key: ClassVar[str] = "model"
    EVAL_KEYS: ClassVar[tuple[str, ...]] = DECODING_KEYS

    cell: str = option("lstm", "the encoder's recurrent cell (any rnnkit.nn layer)",
                       choices=tuple(LAYERS))
    hidden_size: int = option(256, "H, the encoder's features per direction", min=1)
    num_layers: int = option(1, "the encoder's stacked layers", min=1)
    bidirectional: bool = option(True, "the encoder reads each source both ways (D = 2)")
    decoder_cell: str = option("auto", "the decoder's cell; auto: the encoder's",
                               choices=("auto", *LAYERS))
    decoder_hidden_size: int | str = option("auto", "the decoder's features; auto: D*H, the "
                                            "encoder's outputs", min=1, auto=True)
    decoder_layers: int | str = option("auto", "the decoder's stacked layers; auto: "
                                       "num_layers", min=1, auto=True)
    embedding_dim: int = option(128, "E, features of each token's embedding (both sides)",
                                min=1)
    attention: str = option("general", "how the decoder scores each source step: general "
                            "(q W m, Luong), dot (q m), additive (v tanh(W q + U m), "
                            "Bahdanau) or none", choices=(*ATTENTIONS, "none"))
    input_feeding: bool = option(False, "feed the previous attentional output into the "
                                 "decoder (Luong); steps the decoder one token at a time in "
                                 "training too")
    bridge: str = option("linear", "the decoder's first state: linear (tanh of a linear map "
                         "of the encoder's final states, both directions) or zeros",
                         choices=BRIDGES)
    dropout: float = option(0.0, "dropout between stacked layers (needs num_layers >= 2)",
                            min=0.0, max=0.99)
    embedding_dropout: float = option(0.0, "dropout on the token embeddings", min=0.0,
                                      max=0.99)
    output_dropout: float = option(0.0, "dropout on the attentional output before the "
                                   "token scores", min=0.0, max=0.99)
    teacher_forcing: float = option(1.0, "training: the chance that a step reads the true "
                                    "previous token rather than the model's guess "
                                    "(scheduled sampling below 1)", min=0.0, max=1.0)
    label_smoothing: float = option(0.0, "training: part of each target's probability "
                                    "spread over every token", min=0.0, max=0.99)
    beam_size: int = option(5, "decoding of test and predict: beams (1 = greedy); "
                            "validation decodes greedily", min=1)
    nbest: int = option(1, "predict: hypotheses written per example (at most beam_size)",
                        min=1)
    length_penalty: float = option(1.0, "beam search ranks by log p / steps ** this (0: by "
                                   "log p, which favours short outputs; 1: per step)",
                                   min=0.0)
    max_length_ratio: float = option(2.0, "decoding stops after max_length_ratio * source "
                                     "length + max_length_extra steps", min=0.0)
    max_length_extra: int = option(10, "see max_length_ratio", min=0)
    path: str = option("auto", "rnnkit.nn execution path", choices=("auto", "fast", "explicit"))

    def _check(self) -> None:
        check_layer_dropout(self.dropout, max(self.num_layers, self.decoder_num_layers()),
                            "model.embedding_dropout or model.output_dropout")
        if self.nbest > self.beam_size:
            raise ConfigError(f"model.nbest={self.nbest} hypotheses need a beam of at least "
                              f"as many; model.beam_size is {self.beam_size}")
        if self.input_feeding and self.attention == "none":
            raise ConfigError("model.input_feeding feeds the attentional output back: it "
                              "needs model.attention")

    def decoder_size(self) -> int:
        """The decoder's features: ``decoder_hidden_size``, or D*H for ``auto``."""
        if self.decoder_hidden_size == "auto":
            return self.hidden_size * (2 if self.bidirectional else 1)
        return int(self.decoder_hidden_size)

    def decoder_num_layers(self) -> int:
        return self.num_layers if self.decoder_layers == "auto" else int(self.decoder_layers)


CONFIG = Seq2SeqConfig
