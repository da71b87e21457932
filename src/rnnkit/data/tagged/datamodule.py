"""TaggedDataModule: sentences with a tag on every token, as batches of token, tag and feature
ids, split by the MD5 of each sentence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data.choices import auto_batch_size, auto_val_fraction, file_digest
from rnnkit.data.info import DataInfo
from rnnkit.data.source import PredictData, PredictInputs
from rnnkit.data.splits import SplitDataModule
from rnnkit.data.tagged.batches import UNSEEN_TAG, TaggedDataset, collate_tagged, piece_bounds
from rnnkit.data.tagged.config import TaggedConfig
from rnnkit.data.tagged.features import (
    CHAR_TOKEN_LENGTH,
    bigrams,
    char_ids,
    char_vocabulary,
    mean_token_length,
)
from rnnkit.data.tagged.readers import (
    CONLL_SUFFIXES,
    TaggedSentences,
    detect_format,
    read_tagged,
)
from rnnkit.data.tagged.tagset import tags_note
from rnnkit.data.text.datamodule import hash_split
from rnnkit.data.text.vocab import UNK_ID, Vocabulary
from rnnkit.models.tag_schemes import tag_order, tag_scheme

__all__ = ["BIGRAM_MIN_COUNT", "TaggedDataModule"]

BIGRAM_MIN_COUNT = 2  # a bigram seen once in training is <unk>: the model learns what that is


class TaggedDataModule(SplitDataModule):
    """Tagged sentences for the tag family.

    The training sentences (``data.train``) are split by the MD5 of each sentence's text (its
    tokens joined by spaces, :func:`~rnnkit.data.text.datamodule.hash_fraction`): a test part
    (``data.test_fraction``, without a test file), a validation part (``data.val_fraction``),
    the rest for training. The token, tag and feature vocabularies are built on the training
    part only. A sentence longer than ``data.max_length`` tokens is cut into equal pieces of at
    most that many (:func:`~rnnkit.data.tagged.batches.piece_bounds`); prediction reads whole
    sentences. A validation or test tag the training part never had is id -1
    (:data:`~rnnkit.data.tagged.batches.UNSEEN_TAG`): no prediction matches it, so it counts as
    an error; a note counts those tokens.

    Args:
        config: the ``data:`` section.
        seed: shuffle and bucketing seed.
        purpose: ``"train"``, ``"evaluate"`` or ``"predict"``.
        state: a checkpoint's data state (:meth:`data_state`), or None.
        predict: what to predict.

    Batches: a dict (:func:`~rnnkit.data.tagged.batches.collate_tagged`) ``tokens (N, L)``,
    ``lengths (N,)``, ``tags (N, L)`` (-100 on padding; absent without tags), ``chars
    (N, L, C)`` and ``bigrams (N, L)`` when those features are on; all int64.

    Attributes:
        predict_format: after reading what to predict, the layout it came in: ``"conll"``,
            ``"slash"`` or ``"text"`` (``--text``), the layout to write predictions in.

    Example::

        config = build_section(TaggedConfig, {"train": "pku98_seg.txt"}, "data.")
        dm = TaggedDataModule(config)
        dm.setup("fit")
        batch = next(iter(dm.train_dataloader()))  # tokens, lengths, tags, bigrams
        info = dm.describe()  # class_names ('b', 'm', 'e', 's'), features {'bigrams': ...}
    """

    collate = staticmethod(collate_tagged)

    def __init__(self, config: TaggedConfig, *, seed: int = 0, purpose: str = "train",
                 state: Mapping[str, Any] | None = None,
                 predict: PredictInputs | None = None) -> None:
        super().__init__(config, seed=seed, purpose=purpose, state=state, predict=predict)
        self.val_fraction: float | str = self.state.get("val_fraction", config.val_fraction)
        self.predict_format: str | None = None
        self._predict_keys: dict[str, list[Any]] = {}
        self._predict_labels: dict[str, list[Any]] = {}
        self._predict_notes: list[str] = []
        s = self.state
        self.format: str | None = s.get("format")
        self.mean_length: float = s.get("mean_token_length", 0.0)
        self.vocabulary = Vocabulary(s["vocabulary"]) if s else None
        self.tags: list[str] | None = list(s["tags"]) if s else None
        self.chars = Vocabulary(s["chars"]) if s.get("chars") else None
        self.bigrams = Vocabulary(s["bigrams"]) if s.get("bigrams") else None
        self.lowercase: bool = s.get("lowercase", config.lowercase)
        self.max_word_chars: int = s.get("max_word_chars", config.max_word_chars)
        self.max_length: int = s.get("max_length", config.max_length)

    # ---- reading ---------------------------------------------------------------------------
    def _read(self, path: str, split: str) -> TaggedSentences:
        """A training, validation or test file, which must have tags."""
        c = self.config
        read = read_tagged(path, format=c.format, token_col=c.token_col, tag_col=c.tag_col)
        if read.tags is None:
            needs = "training" if split == "train" else f"a {split} file"
            raise ValueError(f"{read.source}: no tags; {needs} needs a tag on every token")
        how = "as data.format says" if c.format != "auto" else "detected by its suffix" \
            if Path(path).suffix.lower() in CONLL_SUFFIXES else "detected by its first lines"
        layout = "word/TAG sentences" if read.format == "slash" else \
            f"CoNLL columns (tokens in column {c.token_col % read.columns + 1} and tags in " \
            f"{c.tag_col % read.columns + 1} of {read.columns})"
        self.notes.append(f"{split}: {read.source} read as {layout} ({how}): "
                          f"{len(read):,} sentences, {read.num_tokens:,} tokens")
        return read

    def _split(self, read: TaggedSentences) -> dict[str, list[int]]:
        c = self.config
        n = len(read)
        test_fraction = c.test_fraction if c.test is None else 0.0
        if self.val_fraction == "auto":
            if c.val is not None:
                self.val_fraction = 0.0
            else:
                self.val_fraction, note = auto_val_fraction(
                    round(n * (1 - test_fraction)), c.test is not None or test_fraction > 0,
                    "training sentences")
                self.notes.append(note)
        val_fraction = float(self.val_fraction) * (1 - test_fraction)
        texts = (" ".join(tokens) for tokens in read.tokens)
        parts = hash_split((t.lower() if self.lowercase else t for t in texts),
                           test_fraction, val_fraction)
        if test_fraction or val_fraction:
            self.notes.append(
                f"split by the MD5 of each sentence: {len(parts['train']):,} training, "
                f"{len(parts['val']):,} validation, {len(parts['test']):,} test sentences of "
                f"{n:,}")
        if not parts["train"]:
            raise ValueError(f"{read.source}: no sentence left for training after the "
                             "validation and test splits")
        return parts

    def _pieces(self, read: TaggedSentences, indices: Sequence[int]) -> tuple[
            list[list[str]], list[list[str]] | None, int]:
        """``(tokens, tags, sentences cut)``: the sentences ``indices`` of ``read``, those
        longer than ``max_length`` cut into pieces."""
        tokens: list[list[str]] = []
        tags: list[list[str]] | None = None if read.tags is None else []
        cut = 0
        for i in indices:
            bounds = piece_bounds(len(read.tokens[i]), self.max_length)
            cut += len(bounds) > 1
            tokens += [read.tokens[i][a:b] for a, b in bounds]
            if tags is not None and read.tags is not None:
                tags += [read.tags[i][a:b] for a, b in bounds]
        return tokens, tags, cut

    def _cut_note(self, what: str, cut: int, before: int, after: int) -> None:
        if cut:
            self.notes.append(f"{what}: {cut:,} sentence{'s' if cut > 1 else ''} longer than "
                              f"{self.max_length} tokens (data.max_length) cut into "
                              f"{cut + after - before:,} pieces, every token keeping its tag")

    def _forms(self, sentence: Sequence[str]) -> list[str]:
        return [t.lower() for t in sentence] if self.lowercase else list(sentence)

    def _build_vocabularies(self, tokens: list[list[str]], tags: list[list[str]]) -> None:
        c = self.config
        self.mean_length = mean_token_length(tokens)
        self.vocabulary = Vocabulary.build((self._forms(s) for s in tokens),
                                           min_count=c.min_count, max_size=c.max_vocab)
        times = f"{c.min_count} times" if c.min_count > 1 else "once"
        self.notes.append(f"vocabulary: {len(self.vocabulary) - 2:,} tokens seen at least "
                          f"{times} in the {len(tokens):,} training sentences"
                          f"{' (lower-cased)' if self.lowercase else ''}, with <pad> and <unk>")
        self.tags = tag_order(t for sentence in tags for t in sentence)
        self.notes.append(tags_note(self.tags))
        words = self.mean_length > CHAR_TOKEN_LENGTH
        use_chars = words if c.char_features == "auto" else bool(c.char_features)
        use_bigrams = not words if c.bigram_features == "auto" else bool(c.bigram_features)
        parts = []
        if use_chars:
            self.chars = char_vocabulary(tokens)
            parts.append(f"the characters of each token (its first {self.max_word_chars}; "
                         f"{len(self.chars) - 2:,} distinct)")
        if use_bigrams:
            least = max(BIGRAM_MIN_COUNT, c.min_count)
            self.bigrams = Vocabulary.build((bigrams(self._forms(s)) for s in tokens),
                                            min_count=least, max_size=c.max_vocab)
            parts.append(f"the bigram of each token and the next ({len(self.bigrams) - 2:,} "
                         f"seen at least {'twice' if least == 2 else f'{least} times'}, the "
                         "rest <unk>)")
        note = f"features: {' and '.join(parts) or 'the tokens alone'}"
        auto = [f"data.{k}" for k in ("char_features", "bigram_features")
                if getattr(c, k) == "auto"]
        if auto:
            note += f", as the tokens are {'words' if words else 'characters'} " \
                f"({self.mean_length:.2f} characters on average; {' and '.join(auto)} auto)"
        self.notes.append(note)

    def _encode(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None,
                what: str) -> TaggedDataset:
        assert self.vocabulary is not None and self.tags is not None
        index = {t: k for k, t in enumerate(self.tags)}
        unseen: Counter[str] = Counter()
        unknown = total = 0
        items = []
        for i, sentence in enumerate(tokens):
            forms = self._forms(sentence)
            ids, unk = self.vocabulary.encode(forms)
            unknown, total = unknown + unk, total + len(ids)
            item = {"tokens": ids}
            if tags is not None:
                item["tags"] = np.array([index.get(t, UNSEEN_TAG) for t in tags[i]],
                                        dtype=np.int64)
                unseen.update(t for t in tags[i] if t not in index)
            if self.chars is not None:
                item["chars"] = char_ids(sentence, self.chars, self.max_word_chars)
            if self.bigrams is not None:
                item["bigrams"] = self.bigrams.encode(bigrams(forms))[0]
            items.append(item)
        if unseen and what != "predict":  # a file to tag shows its tags; nothing is scored
            names = ", ".join(t for t, _ in unseen.most_common(5))
            more = f" and {len(unseen) - 5} more" if len(unseen) > 5 else ""
            count = sum(unseen.values())
            self.notes.append(f"{what}: tags the training data never had ({names}{more}) on "
                              f"{count:,} token{'s' if count > 1 else ''}: scored as errors")
        if what == "predict" and unknown:
            only = sum(1 for item in items if (item["tokens"] == UNK_ID).all())
            self._predict_notes.append(
                f"{unknown:,} of {total:,} tokens are not in the vocabulary (read as <unk>)"
                + (f"; {only} sentence{'s' if only > 1 else ''} held only unknown tokens"
                   if only else ""))
        return TaggedDataset(items)

    def _load_train(self) -> None:
        c = self.config
        read = self._read(str(c.train), "train")
        digest = file_digest(str(c.train))
        if self.state.get("train_sha256") not in (None, digest):
            raise ValueError(f"{c.train} is not the training data the run was trained on, or "
                             "it changed since (its digest differs from the checkpoint's), so "
                             "the run's splits cannot be rebuilt; restore it")
        self.format = self.format or read.format
        self.digests["train"] = digest
        parts = self._split(read)
        pieces = {split: self._pieces(read, indices) for split, indices in parts.items()
                  if indices}
        self._cut_note("train", sum(cut for _, _, cut in pieces.values()), len(read),
                       sum(len(tokens) for tokens, _, _ in pieces.values()))
        if self.vocabulary is None:
            tokens, tags, _ = pieces["train"]
            assert tags is not None
            self._build_vocabularies(tokens, tags)
        for split, (tokens, tags, _) in pieces.items():
            self.splits[split] = self._encode(tokens, tags, split)
        if self.batch_size == "auto":
            self.batch_size = auto_batch_size(len(self.splits["train"]))
            self.notes.append(f"batch size {self.batch_size} for "
                              f"{len(self.splits['train']):,} training sentences")

    def _load_file(self, split: str, path: str) -> None:
        read = self._read(path, split)
        self.digests[split] = file_digest(path)
        tokens, tags, cut = self._pieces(read, range(len(read)))
        self._cut_note(split, cut, len(read), len(tokens))
        self.splits[split] = self._encode(tokens, tags, split)

    def _char_tokens(self) -> bool:
        """Whether the model's tokens are characters (Chinese segmentation), not words."""
        return self.mean_length <= CHAR_TOKEN_LENGTH

    def _load_predict(self) -> None:
        c, p = self.config, self.predict_inputs
        if p.data is not None:
            # neither layout: plain sentences, one a line (an untagged word/TAG file)
            fmt = c.format if c.format != "auto" else detect_format(p.data) or "slash"
            read = read_tagged(p.data, format=fmt, token_col=c.token_col, tag_col=c.tag_col)
            tokens = read.tokens
            if read.tags is None and read.format == "slash" and self._char_tokens():
                tokens = [list("".join(s)) for s in tokens]  # plain lines: every character
            self.predict_format = read.format
            self._predict_keys = {"index": list(range(len(tokens))), "tokens": tokens}
            if read.tags is not None:
                self._predict_labels = {"tags": read.tags}
            tags = read.tags
        else:
            tokens = [[ch for ch in text if not ch.isspace()] if self._char_tokens()
                      else text.split() for text in p.texts]
            empty = next((i for i, t in enumerate(tokens) if not t), None)
            if empty is not None:
                raise ValueError(f"--text: text {empty + 1} is empty; nothing to tag")
            self.predict_format = "text"
            self._predict_keys = {"tokens": tokens}
            tags = None
        self.splits["predict"] = self._encode(tokens, tags, "predict")

    # ---- the source interface --------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "val_fraction": float(self.val_fraction),
                "char_features": self.chars is not None,
                "bigram_features": self.bigrams is not None}

    def data_state(self) -> dict[str, Any]:
        """What reading new files as the training file was read needs (plain values): its
        layout, the vocabularies, the features and the split."""
        assert self.vocabulary is not None and self.tags is not None
        c = self.config
        return {
            "format": self.format, "token_col": c.token_col, "tag_col": c.tag_col,
            "lowercase": self.lowercase, "max_length": self.max_length,
            "mean_token_length": self.mean_length, "max_word_chars": self.max_word_chars,
            "char_features": self.chars is not None,
            "bigram_features": self.bigrams is not None,
            "vocabulary": list(self.vocabulary.tokens), "tags": list(self.tags),
            "tag_scheme": tag_scheme(self.tags),
            "chars": list(self.chars.tokens) if self.chars is not None else None,
            "bigrams": list(self.bigrams.tokens) if self.bigrams is not None else None,
            "test_fraction": c.test_fraction if c.test is None else 0.0,
            "val_fraction": float(self.val_fraction),
            **{f"{split}_sha256": digest for split, digest in self.digests.items()},
        }

    def check_resume(self, state: Mapping[str, Any]) -> None:
        for split in ("val", "test"):
            before, now = state.get(f"{split}_sha256"), self.digests.get(split)
            if before is not None and now is not None and before != now:
                path = self.config.test if split == "test" else self.config.val
                raise ValueError(f"{path} changed since the run started (its SHA-256 differs "
                                 "from the checkpoint's); restore it to resume")

    def describe(self) -> DataInfo:
        train = self.splits["train"]
        assert self.vocabulary is not None and self.tags is not None
        features = {name: tuple(v.tokens) for name, v in
                    (("chars", self.chars), ("bigrams", self.bigrams)) if v is not None}
        return DataInfo(source="tagged", vocabulary=tuple(self.vocabulary.tokens),
                        class_names=tuple(self.tags), step_labels=True, features=features,
                        max_length=int(train.lengths.max()), num_train=len(train),
                        state=self.data_state())

    def predict_data(self) -> PredictData:
        return PredictData(self.loader("predict"), dict(self._predict_keys),
                           dict(self._predict_labels), self.notes + self._predict_notes,
                           format=self.predict_format or "")
