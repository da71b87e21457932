"""TextDataModule: labelled texts as token-id sequences, split by the MD5 of each text."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from rnnkit.data.choices import auto_batch_size, auto_val_fraction, file_digest, target_statistics
from rnnkit.data.info import DataInfo
from rnnkit.data.sequences.labels import infer_task, label_order
from rnnkit.data.source import PredictData, PredictInputs
from rnnkit.data.splits import SplitDataModule
from rnnkit.data.text.config import TextConfig
from rnnkit.data.text.readers import TextExamples, read_class_files, read_text
from rnnkit.data.text.tokenize import Tokenizer
from rnnkit.data.text.vocab import UNK_ID, Vocabulary

__all__ = ["TextDataModule", "TokenDataset", "collate_tokens", "hash_fraction", "hash_split",
           "text_digest"]


def hash_fraction(text: str) -> float:
    """A number in [0, 1) fixed by the text alone (its MD5): splits made with it put identical
    texts in the same split, on every machine and for every seed."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:12], 16) / 16**12


def hash_split(keys: Iterable[str], test_fraction: float,
               val_fraction: float) -> dict[str, list[int]]:
    """The indices of ``keys`` by split: key i is ``test`` when its :func:`hash_fraction` is
    below ``test_fraction``, ``val`` when below ``test_fraction + val_fraction``, else
    ``train`` (``val_fraction`` is a part of all the keys, not of what the test part left)."""
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, key in enumerate(keys):
        u = hash_fraction(key)
        part = "test" if u < test_fraction else "val" \
            if u < test_fraction + val_fraction else "train"
        parts[part].append(i)
    return parts


def text_digest(examples: TextExamples) -> str:
    """SHA-256 of the texts and labels, in order (what the splits are rebuilt from)."""
    h = hashlib.sha256()
    for i, text in enumerate(examples.texts):
        h.update(text.encode("utf-8") + b"\0")
        if examples.labels is not None:
            h.update(examples.labels[i].encode("utf-8") + b"\0")
    return h.hexdigest()


class TokenDataset(Dataset):
    """Token-id sequences and their targets: item i is ``(ids (L_i,) int64, target or None)``."""

    def __init__(self, ids: Sequence[np.ndarray], targets: np.ndarray | None) -> None:
        self.ids, self.targets = list(ids), targets
        self.lengths = np.array([len(x) for x in self.ids], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[np.ndarray, Any]:
        return self.ids[i], None if self.targets is None else self.targets[i]


def collate_tokens(batch: Sequence[tuple[np.ndarray, Any]]) -> tuple[torch.Tensor, ...]:
    """``(ids (N, L_max) int64 padded with 0, lengths (N,) int64, y (N,) or None)``."""
    lengths = torch.tensor([len(x) for x, _ in batch], dtype=torch.int64)
    ids = torch.zeros(len(batch), int(lengths.max()), dtype=torch.int64)
    for i, (x, _) in enumerate(batch):
        ids[i, : len(x)] = torch.from_numpy(x)
    targets = [t for _, t in batch]
    if any(t is None for t in targets):
        return ids, lengths, None
    t = np.asarray(targets)
    dtype = torch.int64 if t.dtype.kind in "biu" else torch.float32
    return ids, lengths, torch.as_tensor(t, dtype=dtype)


class TextDataModule(SplitDataModule):
    """Texts for the classify and regress families.

    The training texts (``data.train`` or ``data.class_files``) are split by
    :func:`hash_fraction`: a test part (``data.test_fraction``, when there is no test file),
    a validation part (``data.val_fraction``), the rest for training. The tokenizer (a subword
    model is trained here) and the vocabulary are built on the training part only. Texts
    longer than ``data.max_length`` tokens are truncated, with a note that counts them.

    Args:
        config: the ``data:`` section.
        seed: shuffle and bucketing seed.
        task: ``"classification"``, ``"regression"`` or ``"auto"`` (from the labels).
        purpose: ``"train"``, ``"evaluate"`` or ``"predict"``.
        state: a checkpoint's data state (tokenizer, vocabulary, classes, digest), or None.
        predict: what to predict.

    Batches: ``(ids (N, L) int64, lengths (N,) int64, y (N,))``; ``y`` int64 class indices
    or float32 targets (``None`` for unlabelled prediction data).
    """

    collate = staticmethod(collate_tokens)

    def __init__(self, config: TextConfig, *, seed: int = 0, task: str = "auto",
                 purpose: str = "train", state: Mapping[str, Any] | None = None,
                 predict: PredictInputs | None = None) -> None:
        super().__init__(config, seed=seed, purpose=purpose, state=state, predict=predict)
        self.read_task = task
        self.val_fraction: float | str = config.val_fraction
        self.tokenizer: Tokenizer | None = None
        self.vocabulary: Vocabulary | None = None
        self.task = self.state.get("task")
        self.class_names: list[str] | None = self.state.get("class_names")
        if self.state:
            self.tokenizer = Tokenizer.from_state(self.state["tokenizer"])
            self.vocabulary = Vocabulary(self.state["vocabulary"])
        self._predict_notes: list[str] = []
        self._predict = TextExamples([], None, [], "")
        self._digest: str | None = None

    # ---- reading ---------------------------------------------------------------------------
    def _read_training_texts(self) -> TextExamples:
        c = self.config
        if c.class_files is not None:
            examples = read_class_files(c.class_files)
        else:
            examples = read_text(str(c.train), text_col=c.text_col, label_col=c.label_col,
                                 delimiter=c.delimiter)
        if not examples.texts:
            raise ValueError(f"{examples.source}: no texts to train on")
        return examples

    def _read_eval(self, path: str, what: str) -> TextExamples:
        c = self.config
        return read_text(path, text_col=c.text_col, label_col=c.label_col,
                         delimiter=c.delimiter, need_label=what != "predict")

    def _targets(self, examples: TextExamples) -> np.ndarray:
        """The labels as targets, with the task and classes fixed by the training texts;
        a label that does not fit is an error naming its place."""
        labels = examples.labels or []
        if self.task == "regression":
            out = np.empty(len(labels), dtype=np.float32)
            for i, label in enumerate(labels):
                try:
                    out[i] = float(label)
                except ValueError:
                    raise ValueError(f"{examples.where[i]}: the label {label!r} is not a "
                                     "number; regression (task regress) needs numeric "
                                     "targets") from None
                if not np.isfinite(out[i]):
                    raise ValueError(f"{examples.where[i]}: the target {label!r} is not finite")
            return out
        index = {name: k for k, name in enumerate(self.class_names or [])}
        out = np.empty(len(labels), dtype=np.int64)
        for i, label in enumerate(labels):
            if label not in index:
                raise ValueError(f"{examples.where[i]}: the label {label!r} is not one of the "
                                 f"classes {list(index)}")
            out[i] = index[label]
        return out

    def _split(self, examples: TextExamples, has_test: bool) -> dict[str, list[int]]:
        c = self.config
        n = len(examples)
        test_fraction = c.test_fraction if not has_test else 0.0
        if self.val_fraction == "auto":
            if c.val is not None:
                self.val_fraction = 0.0
            else:
                remaining = round(n * (1 - test_fraction))
                self.val_fraction, note = auto_val_fraction(
                    remaining, has_test or test_fraction > 0, "training texts")
                self.notes.append(note)
        val_fraction = float(self.val_fraction) * (1 - test_fraction)
        parts = hash_split((t.lower() if c.lowercase else t for t in examples.texts),
                           test_fraction, val_fraction)
        if test_fraction or val_fraction:
            self.notes.append(
                f"split by the MD5 of each text: {len(parts['train'])} training, "
                f"{len(parts['val'])} validation, {len(parts['test'])} test texts of {n}")
        return parts

    def _dedupe(self, examples: TextExamples, indices: list[int], split: str) -> list[int]:
        seen: set[tuple[str, str]] = set()
        kept = []
        for i in indices:
            key = (examples.texts[i], examples.labels[i] if examples.labels else "")
            if key not in seen:
                seen.add(key)
                kept.append(i)
        if len(kept) < len(indices):
            self.notes.append(f"{split}: {len(indices) - len(kept)} repeated texts dropped "
                              f"({len(kept)} kept)")
        return kept

    def _encode(self, texts: Sequence[str], what: str) -> tuple[list[np.ndarray], int, int, int]:
        """(ids per text, truncated texts, unknown tokens, tokens) for ``texts``."""
        assert self.tokenizer is not None and self.vocabulary is not None
        limit = self.config.max_length
        out, truncated, unknown, total = [], 0, 0, 0
        for text in texts:
            tokens = self.tokenizer(text)
            if len(tokens) > limit:
                tokens, truncated = tokens[:limit], truncated + 1
            ids, unk = self.vocabulary.encode(tokens, backoff=self.tokenizer.ngram > 1)
            if not len(ids):
                ids = np.array([UNK_ID], dtype=np.int64)  # nothing readable: one unknown token
                unk += 1
            out.append(ids)
            unknown, total = unknown + unk, total + len(ids)
        if truncated:
            self.notes.append(f"{what}: {truncated} of {len(texts)} texts longer than "
                              f"{limit} tokens were truncated (data.max_length)")
        return out, truncated, unknown, total

    def _load_train(self) -> None:
        examples = self._read_training_texts()
        if examples.labels is None:
            raise ValueError(f"{examples.source}: no labels; training needs them")
        if examples.skipped_empty:
            self.notes.append(f"{examples.skipped_empty} empty texts skipped")
        self._digest = text_digest(examples)
        if self.state.get("train_sha256") not in (None, self._digest):
            raise ValueError(f"{examples.source} is not the training data the run was trained "
                             "on, or it changed since (its digest differs from the "
                             "checkpoint's), so the run's splits cannot be rebuilt; restore it")
        if self.task is None:
            self.task = infer_task(examples.labels) if self.read_task == "auto" \
                else self.read_task
        parts = self._split(examples, self.config.test is not None)
        if self.config.dedupe:
            parts = {k: self._dedupe(examples, v, k) for k, v in parts.items()}
        train_labels = [examples.labels[i] for i in parts["train"]]
        if self.task == "classification" and self.class_names is None:
            self._check_classes(examples, parts["train"])
            self.class_names = label_order(train_labels)
        targets = self._targets(examples)
        train_texts = [examples.texts[i] for i in parts["train"]]
        if self.vocabulary is None:
            c = self.config
            self.tokenizer = Tokenizer(c.tokenizer, lowercase=c.lowercase,
                                       pattern=c.token_pattern, ngram=c.ngram)
            self.tokenizer.fit(train_texts, c.subword_vocab, c.min_count)
            self.vocabulary = Vocabulary.build(
                (self.tokenizer(t)[: c.max_length] for t in train_texts), min_count=c.min_count,
                max_size=c.max_vocab, backoff=c.ngram > 1)
            times = f"{c.min_count} times" if c.min_count > 1 else "once"
            self.notes.append(f"vocabulary: {len(self.vocabulary):,} {c.tokenizer} tokens seen "
                              f"at least {times} in the {len(train_texts):,} training texts")
        for split, indices in parts.items():
            if indices:
                ids, *_ = self._encode([examples.texts[i] for i in indices], split)
                self.splits[split] = TokenDataset(ids, targets[indices])
        if self.batch_size == "auto":
            self.batch_size = auto_batch_size(len(parts["train"]))
            self.notes.append(f"batch size {self.batch_size} for {len(parts['train'])} "
                              "training texts")

    def _check_classes(self, examples: TextExamples, train: list[int]) -> None:
        assert examples.labels is not None
        counts: dict[str, list[int]] = {}
        for i, label in enumerate(examples.labels):
            counts.setdefault(label, []).append(i)
        single = [(label, idx[0]) for label, idx in counts.items() if len(idx) == 1]
        if single:
            label, i = single[0]
            raise ValueError(f"the class {label!r} has a single example ({examples.where[i]}); "
                             "a class needs at least two (fix or drop it)")
        if len(counts) < 2:
            raise ValueError(f"{examples.source}: every text has the label "
                             f"{examples.labels[0]!r}; classification needs two classes")
        in_train = {examples.labels[i] for i in train}
        missing = sorted(set(counts) - in_train)
        if missing:
            raise ValueError(f"the class {missing[0]!r} has no text in the training split (all "
                             "went to validation or test); give more examples of it")

    def _load_file(self, split: str, path: str) -> None:
        examples = self._read_eval(path, split)
        if examples.skipped_empty:
            self.notes.append(f"{split}: {examples.skipped_empty} empty texts skipped")
        if not examples.texts:
            raise ValueError(f"{path}: no texts to {'predict' if split == 'predict' else 'test'}"
                             f" ({examples.skipped_empty} empty ones skipped)")
        ids, _, unknown, total = self._encode(examples.texts, split)
        if split == "predict":  # labels, when the file has them, are shown, not checked
            self.splits[split] = TokenDataset(ids, None)
            self._predict = examples
            self._unknown_note(ids, unknown, total)
            return
        self.digests[split] = file_digest(path)
        self.splits[split] = TokenDataset(ids, self._targets(examples))

    def _unknown_note(self, ids: list[np.ndarray], unknown: int, total: int) -> None:
        if not unknown:
            return
        only = sum(1 for x in ids if (x == UNK_ID).all())
        note = f"{unknown} of {total} tokens are not in the vocabulary (read as <unk>)"
        if only:
            note += f"; {only} text{'s' if only > 1 else ''} held only unknown tokens, so " \
                "the prediction rests on none of what the model learnt"
        self._predict_notes.append(note)

    def _load_predict(self) -> None:
        p = self.predict_inputs
        if p.data is not None:
            self._load_file("predict", p.data)
            return
        ids, _, unknown, total = self._encode(list(p.texts), "predict")
        self.splits["predict"] = TokenDataset(ids, None)
        self._predict = TextExamples(list(p.texts), None, [], "--text")
        self._unknown_note(ids, unknown, total)

    # ---- the source interface --------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "val_fraction": float(self.val_fraction)}

    def data_state(self) -> dict[str, Any]:
        """What reading new texts as the training texts were read needs (plain values)."""
        assert self.tokenizer is not None and self.vocabulary is not None
        return {"task": self.task, "class_names": self.class_names,
                "tokenizer": self.tokenizer.state(), "vocabulary": list(self.vocabulary.tokens),
                "train_sha256": self._digest,
                **{f"{split}_sha256": digest for split, digest in self.digests.items()}}

    def check_resume(self, state: Mapping[str, Any]) -> None:
        for split, digest in self.digests.items():
            before = state.get(f"{split}_sha256")
            if before is not None and before != digest:
                path = self.config.test if split == "test" else self.config.val
                raise ValueError(f"{path} changed since the run started (its SHA-256 differs "
                                 "from the checkpoint's); restore it to resume")

    def describe(self) -> DataInfo:
        train = self.splits["train"]
        mean, std = target_statistics(train.targets) if self.task == "regression" else (0.0, 1.0)
        assert self.vocabulary is not None
        return DataInfo(
            source="text", vocabulary=tuple(self.vocabulary.tokens),
            class_names=tuple(self.class_names or ()) if self.task == "classification" else (),
            target_mean=mean, target_std=std,
            max_length=int(train.lengths.max()), num_train=len(train), state=self.data_state())

    def predict_data(self) -> PredictData:
        ds = self.splits["predict"]
        examples = self._predict
        keys: dict[str, list[Any]] = {"text": list(examples.texts)}
        if self.predict_inputs.data is not None:
            keys = {"index": list(range(len(ds))), **keys}
        labels: dict[str, list[Any]] = {}
        if examples.labels is not None:
            labels = {"label" if self.task == "classification" else "target": examples.labels}
        return PredictData(self.loader("predict"), keys, labels,
                           self.notes + self._predict_notes)
