"""CorpusDataModule: one long text as a stream of token ids, in windows, for a language model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnkit.data.corpus.config import CorpusConfig
from rnnkit.data.corpus.encode import (
    TextScan,
    cache_dir,
    cached_tokens,
    cached_vocabulary,
    char_offset,
    scan_text,
)
from rnnkit.data.corpus.stream import TokenFile, WindowDataset, WindowSampler, window_loader
from rnnkit.data.info import DataInfo
from rnnkit.data.source import PredictData, PredictInputs, SourceDataModule
from rnnkit.data.text.tokenize import Tokenizer
from rnnkit.data.text.vocab import Vocabulary

__all__ = ["CorpusDataModule"]

MAX_STREAMS = 64  # data.batch_size=auto: at most this many parallel streams
MIN_WINDOWS = 20  # ... each at least this many windows long
WHOLE_PASS_BATCHES = 2000  # data.epoch_batches=auto: an epoch is a whole pass up to this long
EPOCH_BATCHES = 1000  # ... else at most this many batches
_SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


class CorpusDataModule(SourceDataModule):
    """One UTF-8 text (``data.train``) as a token stream, for the lm family.

    The training part is the text up to character ``floor(n * (1 - data.val_fraction))``
    (nanoGPT's ``data[:int(n * 0.9)]``), the validation part the rest, or ``data.val``; a test
    text ``data.test`` is optional. The tokenizer (it keeps whitespace) and the vocabulary are
    built on the training part; every part is tokenised once into a memory-mapped file of ids
    in the cache (:mod:`rnnkit.data.corpus.encode`) and read from there.

    Args:
        config: the ``data:`` section.
        seed: the seed of the training windows' offsets (``data.random_offset``).
        purpose: ``"train"``, ``"evaluate"`` (the test text, else the validation part rebuilt
            from ``state``) or ``"predict"`` (refused: a language model generates).
        state: a checkpoint's data state (:meth:`data_state`), or None.
        predict: unused (prediction is refused).

    Batches: ``(x (N, W) int64, y (N, W) int64)``, ``y`` the tokens after ``x``; N parallel
    streams (``data.batch_size``), W steps (``data.bptt``); batch i + 1 continues batch i in
    every row (:mod:`rnnkit.data.corpus.stream`). Validation and test batches use
    ``min(N, T // (W + 1))`` streams (at least 1) and windows of at most ``T // N - 1`` steps,
    so a short text still gives one batch; the last window of each stream holds its rest, so
    every token is scored but the first of each stream (and the ``T mod N`` left over).

    A training epoch is at most ``data.epoch_batches`` batches (auto: the whole pass when it
    is at most 2000 batches, else 1000): a longer pass is cut into C equal, consecutive
    epochs, its last few batches dropped, and epoch e reads part ``e % C`` of pass ``e // C``
    (:class:`~rnnkit.data.corpus.stream.WindowSampler`), so a run on a large text still checks
    and saves every ~1000 steps. Validation and test always read their whole text.

    Attributes:
        tokenizer: the :class:`~rnnkit.data.text.tokenize.Tokenizer` (after :meth:`setup`).
        vocabulary: the :class:`~rnnkit.data.text.vocab.Vocabulary` (after :meth:`setup`).
        files: the :class:`~rnnkit.data.corpus.stream.TokenFile` of each split read.
    """

    def __init__(self, config: CorpusConfig, *, seed: int = 0, purpose: str = "train",
                 state: Mapping[str, Any] | None = None,
                 predict: PredictInputs | None = None) -> None:
        super().__init__()
        self.config, self.seed, self.purpose = config, seed, purpose
        self.state = dict(state or {})
        self.tokenizer: Tokenizer | None = None
        self.vocabulary: Vocabulary | None = None
        if self.state:
            self.tokenizer = Tokenizer.from_state(self.state["tokenizer"])
            self.vocabulary = Vocabulary(self.state["vocabulary"])
        batch = config.batch_size if isinstance(config.batch_size, int) \
            else self.state.get("batch_size", "auto")
        self.batch_size: int | str = batch
        self.epoch_batches: int | str = config.epoch_batches
        self.val_fraction = 0.0 if config.val is not None else config.val_fraction
        self.files: dict[str, TokenFile] = {}
        self.digests: dict[str, str] = {}  # SHA-256 of each file read, by split
        self.split: dict[str, int] = {}  # the validation part of data.train: "char", "byte"
        self._read = False

    # ---- reading ---------------------------------------------------------------------------
    def _encode(self, split: str, scan: TextScan, start: int, end: int) -> None:
        assert self.tokenizer is not None and self.vocabulary is not None
        tokens = cached_tokens(scan, start, end, self.tokenizer, self.vocabulary,
                               cache_dir(self.config.cache_dir))
        what = _SPLIT_NAMES[split]
        if split != "train" and tokens.count < 2:
            raise ValueError(f"{scan.path}: the {what} part holds {tokens.count} token"
                             f"{'' if tokens.count == 1 else 's'}; it needs at least 2 (a "
                             "longer text, or data.val_fraction=0 for no validation)")
        if tokens.unknown:
            self.notes.append(f"{what}: {tokens.unknown:,} of {tokens.count:,} tokens are not "
                              "in the vocabulary (read as <unk>)")
        self.files[split] = tokens

    def _read_file(self, split: str, path: str) -> None:
        scan = scan_text(path)
        self.digests[split] = scan.sha256
        self._encode(split, scan, scan.start, scan.size)

    def _load_train(self) -> None:
        c = self.config
        train = scan_text(str(c.train))
        self.digests["train"] = train.sha256
        end = train.size
        if c.val is None and self.val_fraction > 0:
            f, n = self.val_fraction, train.num_chars
            k = int(n * (1 - f))
            end = char_offset(train, k)
            self.split = {"char": k, "byte": end}
            self.notes.append(f"split at character {k:,} of {n:,}: the first {100 * (1 - f):g}%"
                              f" of the text for training, the last {100 * f:g}% for "
                              "validation")
        elif c.val is None:
            self.notes.append("no validation: data.val_fraction is 0 and there is no data.val")
        if self.vocabulary is None:
            tokenizer = Tokenizer(c.tokenizer, lowercase=c.lowercase, pattern=c.token_pattern,
                                  keep_whitespace=True)
            self.tokenizer, self.vocabulary = cached_vocabulary(
                train, train.start, end, tokenizer, subword_vocab=c.subword_vocab,
                min_count=c.min_count, max_vocab=c.max_vocab, directory=cache_dir(c.cache_dir))
        self._encode("train", train, train.start, end)
        count = self.files["train"].count
        if self.state.get("vocabulary") is None:
            seen = f" seen at least {c.min_count} times" if c.min_count > 1 else ""
            self.notes.append(f"vocabulary: {len(self.vocabulary) - 2:,} {c.tokenizer} tokens"
                              f"{seen} in the {count:,} training tokens ({len(self.vocabulary):,}"
                              " with <pad> and <unk>)")
        if count < c.bptt + 1:
            raise ValueError(f"{train.path}: the training part holds {count:,} tokens; one "
                             f"training window needs data.bptt + 1 = {c.bptt + 1} (use a longer"
                             " text or a smaller --set data.bptt=...)")
        self._resolve_batch_size(count)
        self._resolve_epoch_batches(count)
        if end < train.size:
            self._encode("val", train, end, train.size)
        elif c.val is not None:
            self._read_file("val", c.val)

    def _resolve_batch_size(self, count: int) -> None:
        W = self.config.bptt
        if self.batch_size == "auto":
            n = min(MAX_STREAMS, max(1, count // (W * MIN_WINDOWS)))
            self.batch_size = n
            self.notes.append(f"batch size {n}: {n} parallel stream{'s' if n > 1 else ''} of "
                              f"{count // n:,} tokens each")
        most = count // (W + 1)
        if int(self.batch_size) > most:
            raise ValueError(f"data.batch_size={self.batch_size} is more parallel streams than "
                             f"the {count:,} training tokens hold: each needs data.bptt + 1 = "
                             f"{W + 1}, so at most {most} (--set data.batch_size={most})")

    def _train_sampler(self, count: int, epoch_windows: int | None = None) -> WindowSampler:
        c = self.config
        return WindowSampler(count // int(self.batch_size), c.bptt,
                             random_offset=c.random_offset, seed=self.seed,
                             epoch_windows=epoch_windows)

    def _resolve_epoch_batches(self, count: int) -> None:
        total = self._train_sampler(count).pass_windows
        if self.epoch_batches == "auto":
            self.epoch_batches = total if total <= WHOLE_PASS_BATCHES else EPOCH_BATCHES
        sampler = self._train_sampler(count, int(self.epoch_batches))
        if sampler.chunks > 1:
            left = total - sampler.chunks * sampler.windows
            last = "batch" if left == 1 else f"{left:,} batches"
            dropped = f" (its last {last} dropped)" if left else ""
            self.notes.append(f"an epoch is {sampler.windows:,} of the {total:,} batches of a "
                              f"pass over the text (data.epoch_batches); {sampler.chunks:,} "
                              f"epochs make one pass{dropped}")

    def _load_evaluate(self) -> None:
        c = self.config
        if self.vocabulary is None:
            raise ValueError("evaluating on a corpus needs the checkpoint's data state "
                             "(its tokenizer and vocabulary)")
        if c.test is not None:
            self._read_file("test", c.test)
            return
        path, split = (c.val, "val") if c.val is not None else (str(c.train), "train")
        if split == "train" and "byte" not in self.state.get("split", {}):
            return  # no validation part: report_split says so
        scan = scan_text(path)
        if scan.sha256 != self.state.get(f"{split}_sha256"):
            raise ValueError(f"{path} changed since the run trained on it (its SHA-256 differs "
                             "from the checkpoint's), so the run's validation part cannot be "
                             "rebuilt; restore it or pass --test FILE")
        start = self.state["split"]["byte"] if split == "train" else scan.start
        self._encode("val", scan, start, scan.size)

    def setup(self, stage: str | None = None) -> None:
        """Read, tokenise and check every split of the purpose (once, whatever ``stage``)."""
        if self._read or self.purpose == "predict":
            return
        if self.purpose == "train":
            self._load_train()
            if self.config.test is not None:
                self._read_file("test", self.config.test)
        else:
            self._load_evaluate()
        self._read = True

    # ---- the source interface --------------------------------------------------------------
    def split_tokens(self, split: str) -> np.ndarray:
        """The token ids of ``split`` (``train``, ``val``, ``test``), (T,), memory-mapped."""
        return self.files[split].array()

    def resolved(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "epoch_batches": self.epoch_batches,
                "val_fraction": float(self.val_fraction)}

    def data_state(self) -> dict[str, Any]:
        """What reading the text again as it was read needs (plain values)."""
        assert self.tokenizer is not None and self.vocabulary is not None
        return {"tokenizer": self.tokenizer.state(), "vocabulary": list(self.vocabulary.tokens),
                "split": dict(self.split), "val_fraction": float(self.val_fraction),
                "batch_size": self.batch_size,
                **{f"{split}_sha256": digest for split, digest in self.digests.items()}}

    def check_resume(self, state: Mapping[str, Any]) -> None:
        for split, digest in self.digests.items():
            before = state.get(f"{split}_sha256")
            if before is not None and before != digest:
                path = getattr(self.config, split)
                raise ValueError(f"{path} changed since the run started (its SHA-256 differs "
                                 "from the checkpoint's); restore it to resume")

    def describe(self) -> DataInfo:
        assert self.vocabulary is not None
        return DataInfo(source="corpus", vocabulary=tuple(self.vocabulary.tokens), stream=True,
                        max_length=self.config.bptt, num_train=self.files["train"].count,
                        state=self.data_state())

    def has_validation(self) -> bool:
        return "val" in self.files

    def train_dataloader(self) -> Any:
        c = self.config
        return window_loader(self.split_tokens("train"), int(self.batch_size), c.bptt,
                             random_offset=c.random_offset, seed=self.seed,
                             epoch_windows=int(self.epoch_batches), num_workers=c.num_workers)

    def _eval_loader(self, split: str) -> Any:
        tokens = self.split_tokens(split)
        most = int(self.batch_size) if self.batch_size != "auto" else MAX_STREAMS
        n = min(most, max(1, len(tokens) // (self.config.bptt + 1)))
        width = min(self.config.bptt, len(tokens) // n - 1)
        return window_loader(tokens, n, width, cover=True, num_workers=self.config.num_workers)

    def val_dataloader(self) -> Any:
        return self._eval_loader("val") if "val" in self.files else []

    def test_dataloader(self) -> Any:
        return self._eval_loader("test")

    def report_split(self) -> tuple[str, Any, int]:
        """``(split, loader, target tokens it covers)``: the test text, else the validation
        part."""
        for split in ("test", "val"):
            if split in self.files:
                loader = self._eval_loader(split)
                ds: WindowDataset = loader.dataset
                return split, loader, ds.batch_size * (ds.column_length - 1)
        raise ValueError("no validation text and no test text: nothing to report a figure on; "
                         "keep data.val_fraction above 0 or give data.val / data.test")

    def predict_data(self) -> PredictData:
        raise ValueError("a language model generates text: use rnnkit generate RUN --prompt "
                         "TEXT")
