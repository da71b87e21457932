"""Seq2SeqTask: a Seq2Seq trained by Lightning with teacher forcing, scored by decoding."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import SumMetric

from rnnkit.data.pairs.batches import BOS, EOS
from rnnkit.families.base import FamilyTask
from rnnkit.families.seq2seq.metrics import score_sequence, text_scores
from rnnkit.families.seq2seq.model import build_seq2seq
from rnnkit.families.seq2seq.text import TokenText
from rnnkit.models.beam_search import Hypothesis, beam_search, greedy_search

__all__ = ["Seq2SeqTask", "sequence_loss"]

COUNTS = ("exact", "errors", "reference_tokens", "in_nbest", "examples")


def sequence_loss(logits: Tensor, target_out: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """The summed cross-entropy of every real target token (padding, id 0, is left out).

    Inputs: ``logits (N, T, V)``, ``target_out (N, T)`` int64 (the target after ``<s>``,
    ending with ``</s>``). Output: a scalar, the sum over the tokens."""
    scores = logits.transpose(1, 2)  # (N, V, T); half precision is summed in float32
    scores = scores.to(torch.promote_types(scores.dtype, torch.float32))
    return F.cross_entropy(scores, target_out, ignore_index=0,
                           reduction="sum", label_smoothing=label_smoothing)


class Seq2SeqTask(FamilyTask):
    """Sequence to sequence: :class:`~rnnkit.models.seq2seq.Seq2Seq`, the cross-entropy of
    every target token (teacher forcing), greedy decoding for validation and the configured
    decoding (``model.beam_size``) for test and prediction.

    Batches: a dict ``source (N, S)``, ``source_lengths (N,)``, ``target (N, T)`` (``<s>``
    ... ``</s>``, 0-padded) and, for scoring, ``references``: N lists of every correct target
    (tuples of ids without ``<s>``/``</s>``; -1 marks a token the training data never had).

    Logged: ``train_loss``, ``val_loss`` (nats per target token), ``val_exact_match`` (the
    decoded sequence equals a reference), ``val_token_error_rate`` (edit distance to the
    closest reference over its length), and their ``test_`` versions. After ``Trainer.test``,
    :attr:`test_report` adds the n-best accuracy (a reference among the beam's K final
    hypotheses), BLEU and chrF of the texts, the decoding options and the first examples.
    """

    family = "seq2seq"

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__(config, info)
        self.model = build_seq2seq(self.run_config.model, self.info)
        vocab = list(self.info.target_vocabulary)
        self.bos, self.eos = vocab.index(BOS), vocab.index(EOS)
        self.banned = [0, self.bos]  # never an output: padding and the start token
        self.counts = {split: {name: SumMetric() for name in COUNTS} for split in ("val", "test")}
        for split, metrics in self.counts.items():
            for name, metric in metrics.items():
                self.add_module(f"{split}_{name}", metric)
        self._texts: tuple[list[str], list[list[str]], list[dict[str, Any]]] = ([], [], [])
        self._token_text: TokenText | None = None

    def forward(self, source: Tensor, lengths: Tensor | None, target_in: Tensor) -> Tensor:
        """Teacher-forced logits ``(N, T, V)``."""
        return self.model(source, lengths, target_in)[0]

    def token_text(self) -> TokenText:
        """The :class:`~rnnkit.families.seq2seq.text.TokenText` of this run's tokenizers."""
        if self._token_text is None:
            self._token_text = TokenText(self.info)
        return self._token_text

    # ---- decoding ----------------------------------------------------------------------------
    def max_lengths(self, lengths: Tensor) -> Tensor:
        """``(N,)`` the most output steps of each source: ratio * length + extra (>= 1)."""
        m = self.run_config.model
        return (lengths.float().cpu() * m.max_length_ratio + m.max_length_extra).ceil() \
            .long().clamp(min=1)

    def decode(self, source: Tensor, lengths: Tensor, beam_size: int | None = None,
               nbest: int = 1) -> list[list[Hypothesis]]:
        """The ``nbest`` best hypotheses of each source (``beam_size`` None: the model's;
        1: greedy search, which also records the attention weights)."""
        m = self.run_config.model
        beam = m.beam_size if beam_size is None else beam_size
        state = self.model.encode(source, lengths)
        options = {"bos": self.bos, "eos": self.eos, "max_lengths": self.max_lengths(lengths),
                   "length_penalty": m.length_penalty, "banned": self.banned}
        if beam == 1:
            return [[h] for h in greedy_search(self.model.step, state, **options,
                                               record=lambda s: s.weights)]
        return beam_search(self.model.step, state, beam_size=beam, nbest=max(nbest, 1),
                           **options)

    # ---- loops -----------------------------------------------------------------------------
    def _loss(self, batch: Mapping[str, Any], split: str) -> Tensor:
        target = batch["target"]
        m = self.run_config.model
        train = split == "train"
        logits, _ = self.model(batch["source"], batch["source_lengths"], target[:, :-1],
                               teacher_forcing=m.teacher_forcing if train else 1.0)
        tokens = int((target[:, 1:] != 0).sum())
        loss = sequence_loss(logits, target[:, 1:], m.label_smoothing if train else 0.0) \
            / max(tokens, 1)
        self.log(f"{split}_loss", loss, prog_bar=split != "test", batch_size=tokens,
                 on_step=train, on_epoch=True)
        return loss

    def _score(self, batch: Mapping[str, Any], split: str) -> None:
        m = self.run_config.model
        beam = 1 if split == "val" else m.beam_size
        hyps = self.decode(batch["source"], batch["source_lengths"], beam, nbest=beam)
        counts = {name: 0 for name in COUNTS}
        for found, refs in zip(hyps, batch["references"], strict=True):
            score = score_sequence([h.tokens for h in found], refs)
            counts["exact"] += score.exact
            counts["errors"] += score.errors
            counts["reference_tokens"] += score.reference_length
            counts["in_nbest"] += score.in_nbest
            counts["examples"] += 1
        for name, value in counts.items():
            self.counts[split][name].update(torch.tensor(float(value)))
        if split == "test":
            self._keep_texts(batch, hyps)

    def _keep_texts(self, batch: Mapping[str, Any], hyps: list[list[Hypothesis]]) -> None:
        text = self.token_text()
        found, refs, examples = self._texts
        for i, (h, r) in enumerate(zip(hyps, batch["references"], strict=True)):
            found.append(text.target(h[0].tokens))
            refs.append([text.target(x) for x in r])
            if len(examples) < 10:
                examples.append({"source": text.source(batch["source"][i].tolist()),
                                 "predicted": found[-1], "references": refs[-1]})

    def _log_scores(self, split: str) -> dict[str, float]:
        c = {name: float(metric.compute()) for name, metric in self.counts[split].items()}
        for metric in self.counts[split].values():
            metric.reset()
        examples = max(c["examples"], 1)
        scores = {"exact_match": c["exact"] / examples,
                  "token_error_rate": c["errors"] / c["reference_tokens"]
                  if c["reference_tokens"] else math.nan,
                  "nbest_accuracy": c["in_nbest"] / examples}
        self.log(f"{split}_exact_match", scores["exact_match"], prog_bar=split == "val")
        self.log(f"{split}_token_error_rate", scores["token_error_rate"],
                 prog_bar=split == "val")
        return scores

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._loss(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._loss(batch, "val")
        self._score(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._loss(batch, "test")
        self._score(batch, "test")

    def on_validation_epoch_end(self) -> None:
        self._log_scores("val")

    def on_test_epoch_start(self) -> None:
        self._texts = ([], [], [])
        self.test_report = {}

    def on_test_epoch_end(self) -> None:
        scores = self._log_scores("test")
        found, refs, examples = self._texts
        m = self.run_config.model
        self.test_report = {
            "nbest_accuracy": scores["nbest_accuracy"],
            **(text_scores(found, refs) if found else {}),
            "decoding": {"beam_size": m.beam_size, "length_penalty": m.length_penalty,
                         "max_length": f"{m.max_length_ratio} * source length + "
                                       f"{m.max_length_extra}"},
            "examples": examples,
        }
