"""The seq2seq family's network, built from the data's description."""

from __future__ import annotations

from rnnkit.config import ConfigError, Section
from rnnkit.data.info import DataInfo
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["build_seq2seq"]


def build_seq2seq(model: Section, info: DataInfo) -> Seq2Seq:
    """A :class:`~rnnkit.models.seq2seq.Seq2Seq` of ``model`` (a
    :class:`~rnnkit.families.seq2seq.config.Seq2SeqConfig`) for ``info``'s vocabularies."""
    try:
        return Seq2Seq(
            len(info.vocabulary), len(info.target_vocabulary),
            embedding_dim=model.embedding_dim, cell=model.cell, hidden_size=model.hidden_size,
            num_layers=model.num_layers, bidirectional=model.bidirectional,
            decoder_cell=None if model.decoder_cell == "auto" else model.decoder_cell,
            decoder_hidden_size=model.decoder_size(),
            decoder_layers=model.decoder_num_layers(), attention=model.attention,
            input_feeding=model.input_feeding, bridge=model.bridge, dropout=model.dropout,
            embedding_dropout=model.embedding_dropout, output_dropout=model.output_dropout,
            path=model.path)
    except ValueError as err:  # dot attention of two sizes
        raise ConfigError(f"model: {err} (model.decoder_hidden_size sets the decoder's "
                          "size)") from None
