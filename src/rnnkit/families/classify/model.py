"""The network of the classify and regress families, built from the data's description."""

from __future__ import annotations

import math

from rnnkit.config import ConfigError
from rnnkit.data.info import DataInfo
from rnnkit.families.classify.config import SequenceModelConfig
from rnnkit.models import SequenceClassifier, auto_patch

__all__ = ["build_classifier", "resolve_model"]


def build_classifier(model: SequenceModelConfig, info: DataInfo,
                     outputs: int | None = None) -> SequenceClassifier:
    """A :class:`~rnnkit.models.SequenceClassifier` for ``info``'s inputs (features or token
    ids) with ``outputs`` scores (default: one per class)."""
    return SequenceClassifier.from_config(
        model, info.input_size, info.num_classes if outputs is None else outputs,
        vocab_size=len(info.vocabulary),
    )


def resolve_model(model: SequenceModelConfig, info: DataInfo) -> tuple[dict, list[str]]:
    """The model section with ``patch: auto`` decided from the longest training sequence."""
    resolved, notes = model.to_dict(), []
    if model.embeddings is not None and not info.tokens:
        raise ConfigError(f"model.embeddings holds vectors of tokens; the {info.source} data "
                          "are numbers, not tokens")
    if model.embeddings is not None:
        from rnnkit.data.text.vectors import vector_width

        resolved["embedding_dim"] = width = vector_width(model.embeddings)
        if width != model.embedding_dim:
            notes.append(f"embedding_dim {width}: the width of the vectors in {model.embeddings}")
    if model.patch == "auto":
        longest = info.max_length
        resolved["patch"] = k = auto_patch(longest)
        features = model.embedding_dim if info.tokens else info.input_size
        how = f"{k * features} features (patches of {k} steps)" \
            if model.frontend == "patch" else \
            f"{model.hidden_size} features (a convolution over {2 * k + 1} steps, stride {k})"
        notes.append(
            f"the longest training sequence ({longest} steps) reaches the recurrent layer as "
            f"{math.ceil(longest / k)} steps of {how}" if k > 1 else
            f"the recurrent layer reads every step: the longest training sequence has {longest}")
    return resolved, notes
