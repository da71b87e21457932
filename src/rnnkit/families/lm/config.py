"""The lm family's ``model:`` section: a language model over a token stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.config.section import Section, check_layer_dropout, option
from rnnkit.nn import LAYERS

__all__ = ["CONFIG", "LanguageModelConfig"]


@dataclass(frozen=True)
class LanguageModelConfig(Section):
    """The language model (:class:`~rnnkit.models.language_model.LanguageModel`): token
    embeddings, a recurrent stack and a projection to the vocabulary, with the AWD-LSTM
    regularisers."""

    key: ClassVar[str] = "model"

    cell: str = option("lstm", "recurrent cell (any rnnkit.nn layer; one direction)",
                       choices=tuple(LAYERS))
    hidden_size: int = option(512, "H, features of the recurrent state", min=1)
    num_layers: int = option(2, "stacked recurrent layers", min=1)
    embedding_dim: int | str = option("auto", "E, features of each token's embedding; auto: "
                                      "hidden_size", min=1, auto=True)
    tie_weights: bool = option(False, "the output projection reuses the embedding matrix "
                               "(with a projection H -> E when they differ)")
    dropout: float = option(0.0, "dropout between recurrent layers (needs num_layers >= 2)",
                            min=0.0, max=0.99)
    embedding_dropout: float = option(0.0, "drop whole token types from the embedding matrix "
                                      "(AWD-LSTM)", min=0.0, max=0.99)
    input_dropout: float = option(0.0, "variational dropout on each layer's input (one mask "
                                  "per sequence)", min=0.0, max=0.99)
    recurrent_dropout: float = option(0.0, "variational dropout on h_{t-1} in the recurrent "
                                      "product", min=0.0, max=0.99)
    weight_drop: float = option(0.0, "DropConnect on the recurrent weight matrix (AWD-LSTM)",
                                min=0.0, max=0.99)
    output_dropout: float = option(0.0, "dropout on the top layer's outputs before the "
                                   "projection", min=0.0, max=0.99)

    def _check(self) -> None:
        check_layer_dropout(self.dropout, self.num_layers, "model.output_dropout")

    def embedding_size(self) -> int:
        """E: ``embedding_dim``, or ``hidden_size`` for ``auto``."""
        return self.hidden_size if self.embedding_dim == "auto" else int(self.embedding_dim)


CONFIG = LanguageModelConfig
