"""DataInfo: what a data source tells a task family about the data it serves."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DataInfo"]


@dataclass(frozen=True)
class DataInfo:
    """The description of a run's data that a family builds its model from.

    Every field is a plain value, so a DataInfo is saved in every checkpoint (``to_dict``) and
    loaded with ``torch.load(weights_only=True)``.

    Attributes:
        source: the data source's name (``mnist``, ``files``, ``text``).
        input_size: F, features per step for numeric inputs; 0 for token inputs.
        vocabulary: the V tokens of token inputs, index 0 the padding token; empty otherwise.
        class_names: the C class names of class labels; empty for numeric targets.
        target_mean, target_std: statistics of the training split's numeric targets.
        max_length: steps of the longest training sequence (a stream: of a training window).
        num_train: training examples (a stream: training tokens).
        stream: the data are one long token stream whose targets are the next tokens (a
            language model's data), not examples with labels.
        step_labels: every step has a label of its own (tagging); ``class_names`` are the tags.
        target_vocabulary: the tokens of target sequences (sequence to sequence), in id order:
            ``<pad>`` (0), ``<unk>`` (1), ``<s>`` (2, start), ``</s>`` (3, end), then the rest;
            empty otherwise.
        features: vocabularies of token features beyond the tokens, by name, each in id order
            with ``<pad>`` (0) and ``<unk>`` (1) first: ``"chars"`` (the characters of words,
            for a character-level word encoder), ``"bigrams"`` (character bigrams).
        state: what the source needs to read new data as it read the training data (its
            standardizer, tokenizer, split, file digests), as plain values.
    """

    source: str
    input_size: int = 0
    vocabulary: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    target_mean: float = 0.0
    target_std: float = 1.0
    max_length: int = 0
    num_train: int = 0
    stream: bool = False
    step_labels: bool = False
    features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    target_vocabulary: tuple[str, ...] = ()
    state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def targets(self) -> str:
        """``"classes"`` (class labels), ``"values"`` (numeric targets), ``"tags"`` (a class
        label for every step), ``"sequences"`` (a target sequence for every input) or
        ``"next_tokens"`` (a stream)."""
        if self.target_vocabulary:
            return "sequences"
        if self.stream:
            return "next_tokens"
        if self.step_labels:
            return "tags"
        return "classes" if self.class_names else "values"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def tokens(self) -> bool:
        """Whether the inputs are token ids (an embedding reads them) rather than features."""
        return bool(self.vocabulary)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["vocabulary"], d["class_names"] = list(self.vocabulary), list(self.class_names)
        d["target_vocabulary"] = list(self.target_vocabulary)
        d["state"] = dict(self.state)
        d["features"] = {k: list(v) for k, v in self.features.items()}
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataInfo:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"a data description has unknown keys {sorted(unknown)}")
        values = dict(data)
        for key in ("vocabulary", "class_names", "target_vocabulary"):
            values[key] = tuple(str(v) for v in values.get(key) or ())
        values["features"] = {str(k): tuple(str(t) for t in v)
                              for k, v in (values.get("features") or {}).items()}
        return cls(**values)
