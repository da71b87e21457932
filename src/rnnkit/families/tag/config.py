"""The tag family's ``model:`` section: a sequence tagger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.config.section import Section, check_layer_dropout, option
from rnnkit.nn import LAYERS

__all__ = ["CONFIG", "TaggerConfig"]


@dataclass(frozen=True)
class TaggerConfig(Section):
    """The tagger (:class:`~rnnkit.models.tagger.SequenceTagger`): token features (or numeric
    features), a recurrent stack read in both directions, a tag score per step, an optional
    CRF."""

    key: ClassVar[str] = "model"

    cell: str = option("lstm", "recurrent cell (any rnnkit.nn layer)", choices=tuple(LAYERS))
    hidden_size: int = option(128, "H, features of the recurrent state per direction", min=1)
    num_layers: int = option(1, "stacked recurrent layers", min=1)
    bidirectional: bool = option(True, "read each sentence in both directions (D = 2)")
    dropout: float = option(0.0, "dropout between recurrent layers (needs num_layers >= 2)",
                            min=0.0, max=0.99)
    embedding_dim: int = option(100, "token inputs: features of each token's embedding", min=1)
    char_dim: int = option(30, "character features: features of each character's embedding",
                           min=1)
    char_channels: int = option(50, "character features: features of a word from its "
                                "characters (a CNN over them)", min=1)
    bigram_dim: int = option(50, "bigram features: features of each character bigram's "
                             "embedding", min=1)
    feature_dropout: float = option(0.0, "dropout on the features before the recurrent layer",
                                    min=0.0, max=0.99)
    output_dropout: float = option(0.0, "dropout on the recurrent outputs before the tag "
                                   "scores", min=0.0, max=0.99)
    crf: bool = option(False, "a CRF over the tags: learnt transitions, Viterbi decoding, "
                       "impossible BIO/BIOES/BMES transitions forbidden")
    path: str = option("auto", "rnnkit.nn execution path", choices=("auto", "fast", "explicit"))
    input_dropout: float = option(0.0, "variational dropout on each layer's input (one mask per "
                                  "sequence)", min=0.0, max=0.99)
    recurrent_dropout: float = option(0.0, "variational dropout on h_{t-1} in the recurrent "
                                      "product", min=0.0, max=0.99)
    weight_drop: float = option(0.0, "DropConnect on the recurrent weight matrix", min=0.0,
                                max=0.99)

    def layer_options(self) -> dict[str, float]:
        """The regularizer keywords for the rnnkit.nn layer (non-default only)."""
        names = ("input_dropout", "recurrent_dropout", "weight_drop")
        return {name: getattr(self, name) for name in names if getattr(self, name) > 0}

    def _check(self) -> None:
        check_layer_dropout(self.dropout, self.num_layers, "model.output_dropout")


CONFIG = TaggerConfig
