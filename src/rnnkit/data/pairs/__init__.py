"""Source/target text pairs (translation, grapheme to phoneme): readers of tables, aligned line
files and pronouncing dictionaries, the target vocabulary's special tokens, the batch dict and
the data module (``rnnkit.data.pairs.datamodule``, which imports Lightning)."""

from rnnkit.data.pairs.batches import (
    BOS,
    BOS_ID,
    EOS,
    EOS_ID,
    UNSEEN_TOKEN,
    PairsDataset,
    collate_pairs,
    target_vocabulary,
)
from rnnkit.data.pairs.readers import (
    Pairs,
    detect_format,
    read_dict,
    read_line_pairs,
    read_pairs,
    read_table_pairs,
)

__all__ = [
    "BOS",
    "BOS_ID",
    "EOS",
    "EOS_ID",
    "UNSEEN_TOKEN",
    "Pairs",
    "PairsDataset",
    "collate_pairs",
    "detect_format",
    "read_dict",
    "read_line_pairs",
    "read_pairs",
    "read_table_pairs",
    "target_vocabulary",
]
