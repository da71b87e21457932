"""The regress family's ``model:`` section: classify's (one output instead of C)."""

from rnnkit.families.classify.config import CONFIG, SequenceModelConfig

__all__ = ["CONFIG", "SequenceModelConfig"]
