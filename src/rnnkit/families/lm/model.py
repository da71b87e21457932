"""The lm family's model: a LanguageModel sized by the model section and the vocabulary."""

from __future__ import annotations

from typing import Any

from rnnkit.config import Section
from rnnkit.data.info import DataInfo
from rnnkit.models.language_model import LanguageModel

__all__ = ["build_language_model", "resolve_model", "token_unit"]


def build_language_model(model: Section, info: DataInfo) -> LanguageModel:
    """The :class:`~rnnkit.models.language_model.LanguageModel` of ``model`` (a
    :class:`~rnnkit.families.lm.config.LanguageModelConfig`) for ``info``'s vocabulary."""
    return LanguageModel(
        len(info.vocabulary), cell=model.cell, embedding_dim=model.embedding_size(),
        hidden_size=model.hidden_size, num_layers=model.num_layers, dropout=model.dropout,
        embedding_dropout=model.embedding_dropout, input_dropout=model.input_dropout,
        recurrent_dropout=model.recurrent_dropout, weight_drop=model.weight_drop,
        output_dropout=model.output_dropout, tie_weights=model.tie_weights)


def resolve_model(model: Section, info: DataInfo) -> tuple[dict[str, Any], list[str]]:
    """``embedding_dim: auto`` -> hidden_size."""
    values = model.to_dict()
    values["embedding_dim"] = model.embedding_size()
    return values, []


def token_unit(info: DataInfo) -> str:
    """What one token is: ``"character"`` for a character model, else ``"token"``."""
    tokenizer = (info.state or {}).get("tokenizer") or {}
    return "character" if tokenizer.get("kind") == "char" else "token"
