"""The tag family's network, built from the data's description."""

from __future__ import annotations

from rnnkit.config import Section
from rnnkit.data.info import DataInfo
from rnnkit.models.tagger import SequenceTagger

__all__ = ["build_tagger"]


def build_tagger(model: Section, info: DataInfo) -> SequenceTagger:
    """A :class:`~rnnkit.models.tagger.SequenceTagger` of ``model`` (a
    :class:`~rnnkit.families.tag.config.TaggerConfig`) for ``info``'s inputs and tags."""
    features = info.features
    return SequenceTagger(
        info.num_classes, input_size=info.input_size, vocab_size=len(info.vocabulary),
        embedding_dim=model.embedding_dim, num_chars=len(features.get("chars", ())),
        char_dim=model.char_dim, char_channels=model.char_channels,
        num_bigrams=len(features.get("bigrams", ())), bigram_dim=model.bigram_dim,
        cell=model.cell, hidden_size=model.hidden_size, num_layers=model.num_layers,
        bidirectional=model.bidirectional, dropout=model.dropout, path=model.path,
        layer_options=model.layer_options(), feature_dropout=model.feature_dropout,
        output_dropout=model.output_dropout, crf=model.crf, tag_names=info.class_names)
