"""The classify family's ``model:`` section (the regress family shares it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.config.section import ConfigError, Section, check_layer_dropout, option
from rnnkit.nn import LAYERS

__all__ = ["CONFIG", "SequenceModelConfig"]


@dataclass(frozen=True)
class SequenceModelConfig(Section):
    """The many-to-one model (:class:`~rnnkit.models.SequenceClassifier`): an input layer
    (an embedding for tokens, an optional patch or convolution front end), a recurrent stack, a
    sequence summary and a head."""

    key: ClassVar[str] = "model"
    PATH_KEYS: ClassVar[tuple[str, ...]] = ("embeddings",)

    cell: str = option("lstm", "recurrent cell (any rnnkit.nn layer)", choices=tuple(LAYERS))
    hidden_size: int = option(128, "H, features of the recurrent state", min=1)
    num_layers: int = option(2, "stacked recurrent layers", min=1)
    bidirectional: bool = option(False, "run a backward direction too (D = 2)")
    dropout: float = option(0.0, "dropout between recurrent layers (needs num_layers >= 2)",
                            min=0.0, max=0.99)
    summary: str = option("last", "sequence summary: last (direction-aware), mean, max, "
                          "meanmax (both, concatenated), attention",
                          choices=("last", "mean", "max", "meanmax", "attention"))
    patch: int | str = option(1, "k: every k consecutive steps become one step of k*F features "
                              "before the recurrent layer; auto: k = ceil(longest training "
                              "sequence / 64)", min=1, auto=True)
    frontend: str = option("patch", "how model.patch shortens the sequence: patch (k steps side "
                           "by side) or conv (a strided convolution over 2k+1 steps with "
                           "hidden_size channels)", choices=("patch", "conv"))
    head_hidden: int = option(0, "hidden units of an extra ReLU layer in the head (0 = linear "
                              "head)", min=0)
    head_batchnorm: bool = option(False, "BatchNorm1d on the summary before the head")
    head_dropout: float = option(0.0, "dropout on the summary before the head", min=0.0, max=0.99)
    embedding_dim: int = option(128, "token inputs (text): features of each token's "
                                "embedding", min=1)
    embeddings: str | None = option(None, "token inputs: a word2vec/GloVe text file (a token "
                                    "and its numbers per line) that initialises the "
                                    "embeddings of the tokens it holds; its width sets "
                                    "embedding_dim")
    freeze_embeddings: bool = option(False, "token inputs: keep the embeddings fixed")
    path: str = option("auto", "rnnkit.nn execution path", choices=("auto", "fast", "explicit"))
    input_dropout: float = option(0.0, "variational dropout on each layer's input (one mask per "
                                  "sequence)", min=0.0, max=0.99)
    recurrent_dropout: float = option(0.0, "variational dropout on h_{t-1} in the recurrent "
                                      "product (one mask per sequence)", min=0.0, max=0.99)
    zoneout: float = option(0.0, "probability that a state unit keeps its previous value",
                            min=0.0, max=0.99)
    weight_drop: float = option(0.0, "DropConnect on the recurrent weight matrix", min=0.0,
                                max=0.99)
    recurrent_max_abs: float = option(0.0, "indrnn only: bound on |recurrent weight| (0 = none)",
                                      min=0.0)

    def layer_options(self) -> dict[str, float]:
        """The keywords for the rnnkit.nn layer beyond the common ones (non-default only)."""
        names = ("input_dropout", "recurrent_dropout", "zoneout", "weight_drop")
        options = {name: getattr(self, name) for name in names if getattr(self, name) > 0}
        if self.recurrent_max_abs > 0:
            options["recurrent_max_abs"] = self.recurrent_max_abs
        return options

    def _check(self) -> None:
        if self.freeze_embeddings and self.embeddings is None:
            raise ConfigError("model.freeze_embeddings keeps pretrained embeddings fixed; give "
                              "them with model.embeddings=FILE")
        if self.recurrent_max_abs > 0 and self.cell != "indrnn":
            raise ConfigError(
                f"model.recurrent_max_abs bounds IndRNN's recurrent weights; cell is {self.cell}"
            )
        check_layer_dropout(self.dropout, self.num_layers, "model.head_dropout")


CONFIG = SequenceModelConfig
