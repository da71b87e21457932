"""PairsDataModule: source/target pairs as batches of source and target ids, split by the MD5
of each source text, every correct target of a source kept as a reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rnnkit.data.choices import auto_batch_size, auto_val_fraction, file_digest
from rnnkit.data.info import DataInfo
from rnnkit.data.pairs.batches import UNSEEN_TOKEN, PairsDataset, collate_pairs
from rnnkit.data.pairs.config import PairsConfig
from rnnkit.data.pairs.readers import Pairs, read_pairs
from rnnkit.data.pairs.tokens import (
    build_vocabularies,
    choose_tokenizer,
    describe_tokenizer,
    encode_target,
)
from rnnkit.data.source import PredictData, PredictInputs
from rnnkit.data.splits import SplitDataModule
from rnnkit.data.text.datamodule import hash_split
from rnnkit.data.text.tokenize import UNK, Tokenizer
from rnnkit.data.text.vocab import UNK_ID, Vocabulary

__all__ = ["SIDES", "PairsDataModule"]

SIDES = ("source", "target")
_LAYOUTS = {"lines": "two aligned line files", "dict": "a pronouncing dictionary"}

Tokens = list[list[str]]


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class PairsDataModule(SplitDataModule):
    """Source/target pairs for the seq2seq family.

    The training pairs (``data.train``) are split by the MD5 of each source text
    (:func:`~rnnkit.data.text.datamodule.hash_split`; spaces collapsed, lower-cased with
    ``data.lowercase``), so every target of a source lands in the same split: a test part
    (``data.test_fraction``, without a test file), a validation part (``data.val_fraction``),
    the rest for training. Tokenizers (a BPE model is trained here) and vocabularies are built
    on the training part only. A pair longer than ``data.max_source_length`` or
    ``data.max_target_length`` tokens is left out of training, validation and test (a note
    counts them).

    Training has one example per pair. Validation, test and prediction have one example per
    distinct source, in first-seen order, with all its targets as references: any of them is
    correct (a pronouncing dictionary's alternatives). A reference token the training targets
    never had is -1 (:data:`~rnnkit.data.pairs.batches.UNSEEN_TOKEN`, a note counts them), so
    no prediction matches it; in ``target`` it is ``<unk>``.

    Args:
        config: the ``data:`` section.
        seed: shuffle and bucketing seed.
        purpose: ``"train"``, ``"evaluate"`` or ``"predict"``.
        state: a checkpoint's data state (:meth:`data_state`), or None.
        predict: what to predict.

    Batches: a dict (:func:`~rnnkit.data.pairs.batches.collate_pairs`) ``source (N, S)``
    (0 padding), ``source_lengths (N,)``, ``target (N, T)`` (``<s>`` 2, the ids, ``</s>``
    3, then 0; a grouped example's first reference; absent without targets), ``references``
    (N lists of tuples of target ids, without ``<s>`` and ``</s>``; absent without targets)
    and ``index (N,)``, the examples' indices; tensors int64.

    Example::

        config = build_section(PairsConfig, {"train": "cmudict.dict", "test_fraction": 0.1},
                               "data.")
        dm = PairsDataModule(config)
        dm.setup("fit")
        batch = next(iter(dm.train_dataloader()))  # source, source_lengths, target, ...
        info = dm.describe()  # vocabulary (letters), target_vocabulary (<pad> <unk> <s> </s> ...)
    """

    collate = staticmethod(collate_pairs)

    def __init__(self, config: PairsConfig, *, seed: int = 0, purpose: str = "train",
                 state: Mapping[str, Any] | None = None,
                 predict: PredictInputs | None = None) -> None:
        super().__init__(config, seed=seed, purpose=purpose, state=state, predict=predict)
        s = self.state
        self.val_fraction: float | str = s.get("val_fraction", config.val_fraction)
        self.format: str | None = s.get("format")
        self.columns: list[str | None] | None = s.get("columns")
        self.lowercase: bool = s.get("lowercase", config.lowercase)
        self.shared: bool = s.get("shared_vocabulary", config.shared_vocabulary)
        self.max_source_length: int = s.get("max_source_length", config.max_source_length)
        self.max_target_length: int = s.get("max_target_length", config.max_target_length)
        self.tokenizers = {side: Tokenizer.from_state(s[f"{side}_tokenizer"]) for side in SIDES
                           } if s else {}
        self.vocabularies = {side: Vocabulary(s[f"{side}_vocabulary"]) for side in SIDES
                             } if s else {}
        self.longest_target: int = s.get("longest_target", 0)
        self.max_length_ratio: float = s.get("max_length_ratio", 0.0)
        self._predict_keys: dict[str, list[Any]] = {}
        self._predict_labels: dict[str, list[Any]] = {}

    # ---- reading ---------------------------------------------------------------------------
    def _key(self, text: str) -> str:
        """What makes two sources the same: the text, spaces collapsed (lower-cased with
        ``data.lowercase``); it picks the split and groups the references."""
        key = " ".join(text.split())
        return key.lower() if self.lowercase else key

    def _read(self, split: str) -> Pairs:
        """The pairs of ``data.<split>`` (and ``data.<split>_target``), digested."""
        c = self.config
        path, target = getattr(c, split), getattr(c, f"{split}_target")
        pairs = read_pairs(path, format=c.format, target_path=target,
                           source_col=c.source_col, target_col=c.target_col)
        self.digests[split] = file_digest(path)
        if target is not None:
            self.digests[f"{split}_target"] = file_digest(target)
        source_col, target_col = pairs.columns or (None, None)
        layout = _LAYOUTS.get(pairs.format) or \
            f"a table (sources in the column {source_col!r}, targets in {target_col!r})"
        how = "as data.format says" if c.format != "auto" else "detected"
        distinct = len({self._key(s) for s in pairs.sources})
        self.notes.append(f"{split}: {pairs.path} read as {layout} ({how}): "
                          f"{_plural(len(pairs), 'pair')} of {_plural(distinct, 'source')}")
        return pairs

    def _split(self, keys: Sequence[str], path: str) -> dict[str, list[int]]:
        c = self.config
        test_fraction = c.test_fraction if c.test is None else 0.0
        distinct = len(set(keys))
        if self.val_fraction == "auto":
            if c.val is not None:
                self.val_fraction = 0.0
            else:
                self.val_fraction, note = auto_val_fraction(
                    round(distinct * (1 - test_fraction)),
                    c.test is not None or test_fraction > 0, "training sources")
                self.notes.append(note)
        val_fraction = float(self.val_fraction) * (1 - test_fraction)
        parts = hash_split(keys, test_fraction, val_fraction)
        if test_fraction or val_fraction:
            sizes = ", ".join(f"{_plural(len(parts[s]), 'pair')} of "
                              f"{_plural(len({keys[i] for i in parts[s]}), 'source')} {name}"
                              for s, name in (("train", "training"), ("val", "validation"),
                                              ("test", "test")) if parts[s])
            self.notes.append(f"split by the MD5 of each source text (all targets of a source "
                              f"in one split): {sizes}")
        if not parts["train"]:
            raise ValueError(f"{path}: no pair left for training after the validation and "
                             "test splits")
        return parts

    def _build_tokenizers(self, pairs: Pairs, train: Sequence[int]) -> None:
        c = self.config
        assert pairs.targets is not None
        texts = {"source": [pairs.sources[i] for i in train],
                 "target": [pairs.targets[i] for i in train]}
        why = {}
        for side in SIDES:
            self.tokenizers[side], why[side] = choose_tokenizer(
                getattr(c, f"{side}_tokenizer"), side, texts[side], pairs.format,
                self.lowercase)
        source, target = self.tokenizers["source"], self.tokenizers["target"]
        if self.shared and source.kind == target.kind == "subword":  # one BPE for both sides
            target.fit([*texts["source"], *texts["target"]], c.target_vocab_size, c.min_count)
            self.tokenizers["source"] = Tokenizer.from_state(target.state())
        else:
            source.fit(texts["source"], c.source_vocab_size, c.min_count)
            target.fit(texts["target"], c.target_vocab_size, c.min_count)
        self.notes.append("tokens: " + ", ".join(
            f"{side}s as {describe_tokenizer(self.tokenizers[side])} ({why[side]})"
            for side in SIDES))

    def _tokenize(self, pairs: Pairs) -> tuple[Tokens, Tokens | None]:
        """The tokens of every source and target (a text the tokenizer finds nothing in:
        ``<unk>``)."""
        source, target = self.tokenizers["source"], self.tokenizers["target"]
        sources = [source(s) or [UNK] for s in pairs.sources]
        targets = None if pairs.targets is None else \
            [target(t) or [UNK] for t in pairs.targets]
        return sources, targets

    def _within_limits(self, split: str, sources: Tokens, targets: Tokens | None,
                       indices: Sequence[int]) -> list[int]:
        """``indices`` less the pairs longer than the maximum lengths (a note counts them)."""
        ms, mt = self.max_source_length, self.max_target_length
        long_source = {i for i in indices if len(sources[i]) > ms}
        long_target = {i for i in indices if targets is not None and len(targets[i]) > mt}
        kept = [i for i in indices if i not in long_source and i not in long_target]
        if len(kept) < len(indices):
            self.notes.append(
                f"{split}: {len(indices) - len(kept):,} of {_plural(len(indices), 'pair')} left "
                f"out, {len(long_source):,} with a source longer than {ms} tokens "
                f"(data.max_source_length) and {len(long_target):,} with a target longer than "
                f"{mt} (data.max_target_length)")
        return kept

    def _examples(self, split: str, keys: Sequence[str], sources: Tokens,
                  targets: Tokens | None, indices: Sequence[int],
                  grouped: bool) -> tuple[PairsDataset, list[list[int]]]:
        """The dataset of ``indices`` (one example per pair, or ``grouped``: per distinct
        source) and the pairs each example holds; every example's references are all targets
        of its source in ``indices``."""
        source_vocab, target_vocab = self.vocabularies["source"], self.vocabularies["target"]
        groups: dict[str, list[int]] = {}
        for i in indices:
            groups.setdefault(keys[i], []).append(i)
        members = list(groups.values()) if grouped else [[i] for i in indices]
        ids, unknown, total = [], 0, 0
        for m in members:
            encoded, unk = source_vocab.encode(sources[m[0]])
            ids.append(encoded)
            unknown, total = unknown + unk, total + len(encoded)
        if unknown and split != "train":
            self.notes.append(f"{split}: {unknown:,} of {total:,} source tokens are not in the "
                              "source vocabulary (read as <unk>)")
        if targets is None:
            return PairsDataset(ids, None, None), members
        unseen_id = UNK_ID if split == "train" else UNSEEN_TOKEN
        encoded_targets = {i: encode_target(target_vocab, targets[i], unseen_id=unseen_id)
                           for i in indices}
        references = {key: tuple(dict.fromkeys(encoded_targets[i][1] for i in group))
                      for key, group in groups.items()}
        if split != "train":
            unseen = [r for refs in references.values() for r in refs if UNSEEN_TOKEN in r]
            if unseen:
                count = sum(r.count(UNSEEN_TOKEN) for r in unseen)
                self.notes.append(
                    f"{split}: {_plural(count, 'target token')} in "
                    f"{_plural(len(unseen), 'reference')} the training targets never had: id "
                    f"{UNSEEN_TOKEN} in the references, so no prediction matches them (<unk> "
                    "in the teacher-forced targets)")
        return PairsDataset(ids, [encoded_targets[m[0]][0] for m in members],
                            [references[keys[m[0]]] for m in members]), members

    def _load_train(self) -> None:
        c = self.config
        pairs = self._read("train")
        for split in ("train", "train_target"):
            if self.state.get(f"{split}_sha256") not in (None, self.digests.get(split)):
                raise ValueError(f"{getattr(c, split)} is not the training data the run was "
                                 "trained on, or it changed since (its digest differs from the "
                                 "checkpoint's), so the run's splits cannot be rebuilt; "
                                 "restore it")
        self.format = self.format or pairs.format
        self.columns = self.columns or (list(pairs.columns) if pairs.columns else None)
        keys = [self._key(s) for s in pairs.sources]
        parts = self._split(keys, pairs.path)
        if not self.tokenizers:
            self._build_tokenizers(pairs, parts["train"])
        sources, targets = self._tokenize(pairs)
        assert targets is not None
        kept = {split: self._within_limits(split, sources, targets, indices)
                for split, indices in parts.items() if indices}
        train = kept["train"]
        if not train:
            raise ValueError(f"{pairs.path}: no pair left for training: all "
                             f"{len(parts['train']):,} are longer than data.max_source_length="
                             f"{self.max_source_length} or data.max_target_length="
                             f"{self.max_target_length} tokens")
        if not self.vocabularies:
            self._build_vocabularies([sources[i] for i in train], [targets[i] for i in train])
        self.longest_target = max(len(targets[i]) for i in train)
        self.max_length_ratio = max(len(targets[i]) / len(sources[i]) for i in train)
        for split, indices in kept.items():
            if indices:
                self.splits[split] = self._examples(split, keys, sources, targets, indices,
                                                    grouped=split != "train")[0]
        if self.batch_size == "auto":
            self.batch_size = auto_batch_size(len(self.splits["train"]))
            self.notes.append(f"batch size {self.batch_size} for "
                              f"{_plural(len(self.splits['train']), 'training pair')}")

    def _build_vocabularies(self, sources: Tokens, targets: Tokens) -> None:
        c = self.config
        self.vocabularies["source"], self.vocabularies["target"] = build_vocabularies(
            sources, targets, shared=self.shared, min_count=c.min_count, max_size=c.max_vocab)
        times = f"{c.min_count} times" if c.min_count > 1 else "once"
        source, target = (len(self.vocabularies[side]) for side in SIDES)
        what = f"one shared vocabulary of {target - 4:,} tokens" if self.shared else \
            f"{source - 2:,} source tokens (with <pad> <unk>) and {target - 4:,} target tokens"
        self.notes.append(f"vocabulary: {what} (with <pad> <unk> <s> </s>) seen at least "
                          f"{times} in the {_plural(len(sources), 'training pair')}"
                          f"{' (lower-cased)' if self.lowercase else ''}")

    def _load_file(self, split: str, path: str) -> None:
        pairs = self._read(split)
        keys = [self._key(s) for s in pairs.sources]
        sources, targets = self._tokenize(pairs)
        kept = self._within_limits(split, sources, targets, range(len(pairs)))
        if not kept:
            raise ValueError(f"{pairs.path}: no pair left for {split}: all {len(pairs):,} are "
                             f"longer than data.max_source_length={self.max_source_length} or "
                             f"data.max_target_length={self.max_target_length} tokens")
        self.splits[split] = self._examples(split, keys, sources, targets, kept, True)[0]

    def _load_predict(self) -> None:
        c, p = self.config, self.predict_inputs
        if p.data is not None:
            pairs = read_pairs(p.data, format=c.format, source_col=c.source_col,
                               target_col=c.target_col, need_target=False)
            grouped = True
        else:
            empty = next((k for k, t in enumerate(p.texts, start=1) if not t.strip()), None)
            if empty is not None:
                raise ValueError(f"--text: text {empty} is empty; expected a source text")
            pairs = Pairs([t.strip() for t in p.texts], None, [], "--text", "text")
            grouped = False
        keys = [self._key(s) for s in pairs.sources]
        sources, targets = self._tokenize(pairs)
        dataset, members = self._examples("predict", keys, sources, targets,
                                          range(len(pairs)), grouped)
        long = sum(len(sources[m[0]]) > self.max_source_length for m in members)
        if long:
            self.notes.append(f"predict: {long:,} of {_plural(len(members), 'source')} longer "
                              f"than {self.max_source_length} tokens (data.max_source_length, "
                              "the longest trained on); predicted all the same")
        self._predict_keys = {"index": list(range(len(members))),
                              "source": [pairs.sources[m[0]] for m in members]}
        if pairs.targets is not None:
            texts = pairs.targets
            self._predict_labels = {"target": [" | ".join(dict.fromkeys(texts[i] for i in m))
                                               for m in members]}
        self.splits["predict"] = dataset

    # ---- the source interface --------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        tokenizers = {f"{side}_tokenizer": self.tokenizers[side].kind for side in SIDES
                      if side in self.tokenizers}
        return {"batch_size": self.batch_size, "val_fraction": float(self.val_fraction),
                **tokenizers}

    def data_state(self) -> dict[str, Any]:
        """What reading new pairs as the training pairs were read needs (plain values): the
        layout, the tokenizers and vocabularies, the limits, the split and the digests, and
        what training saw of the lengths: ``longest_target`` (tokens, without ``<s>`` and
        ``</s>``) and ``max_length_ratio`` (the largest target/source token ratio)."""
        c = self.config
        return {
            "format": self.format, "columns": self.columns, "lowercase": self.lowercase,
            "shared_vocabulary": self.shared,
            **{f"{side}_tokenizer": self.tokenizers[side].state() for side in SIDES},
            **{f"{side}_vocabulary": list(self.vocabularies[side].tokens) for side in SIDES},
            "max_source_length": self.max_source_length,
            "max_target_length": self.max_target_length,
            "test_fraction": c.test_fraction if c.test is None else 0.0,
            "val_fraction": float(self.val_fraction),
            "longest_target": self.longest_target, "max_length_ratio": self.max_length_ratio,
            **{f"{split}_sha256": digest for split, digest in self.digests.items()},
        }

    def check_resume(self, state: Mapping[str, Any]) -> None:
        for split in ("val", "val_target", "test", "test_target"):
            before, now = state.get(f"{split}_sha256"), self.digests.get(split)
            if before is not None and now is not None and before != now:
                raise ValueError(f"{getattr(self.config, split)} changed since the run started "
                                 "(its SHA-256 differs from the checkpoint's); restore it to "
                                 "resume")

    def describe(self) -> DataInfo:
        train = self.splits["train"]
        return DataInfo(source="pairs", vocabulary=tuple(self.vocabularies["source"].tokens),
                        target_vocabulary=tuple(self.vocabularies["target"].tokens),
                        max_length=int(train.lengths.max()), num_train=len(train),
                        state=self.data_state())

    def predict_data(self) -> PredictData:
        return PredictData(self.loader("predict"), dict(self._predict_keys),
                           dict(self._predict_labels), list(self.notes))
