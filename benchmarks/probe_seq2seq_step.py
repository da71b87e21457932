"""The time of one training step (forward + backward + AdamW) of rnnkit's Seq2Seq at the sizes
the G2P recipe was chosen among, on CMUdict-like batches (128 words of 4-12 letters), one
thread, in one process.

    .venv/bin/python benchmarks/probe_seq2seq_step.py

Rows: encoder units per direction / decoder units (bidirectional LSTM encoder, LSTM decoder,
general attention, embeddings of 128), on the automatic path and the explicit one.
"""

from __future__ import annotations

import time

import torch

from rnnkit.families.seq2seq.task import sequence_loss
from rnnkit.models.seq2seq import Seq2Seq

SIZES = [("256/512 auto", {"hidden_size": 256}),
         ("256/512 explicit", {"hidden_size": 256, "path": "explicit"}),
         ("192/384 auto", {"hidden_size": 192}),
         ("128/256 auto", {"hidden_size": 128}),
         ("128/256 explicit", {"hidden_size": 128, "path": "explicit"})]


def batch(n: int = 128) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Letters (ids 2..28) of 4-12 steps and phoneme targets (<s> ... </s>, ids 4..72)."""
    lengths = torch.randint(4, 13, (n,))
    source = torch.randint(2, 29, (n, int(lengths.max())))
    source[torch.arange(source.shape[1])[None] >= lengths[:, None]] = 0
    steps = (lengths - 1).clamp(min=2)
    target = torch.randint(4, 73, (n, int(steps.max()) + 2))
    for i in range(n):
        target[i, 0], target[i, int(steps[i]) + 1] = 2, 3
        target[i, int(steps[i]) + 2:] = 0
    return source, lengths, target


def train_step(model: Seq2Seq, optimizer: torch.optim.Optimizer, source: torch.Tensor,
               lengths: torch.Tensor, target: torch.Tensor) -> None:
    logits, _ = model(source, lengths, target[:, :-1])
    loss = sequence_loss(logits, target[:, 1:]) / (target[:, 1:] != 0).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    source, lengths, target = batch()
    for name, options in SIZES:
        model = Seq2Seq(31, 73, embedding_dim=128, **options)
        optimizer = torch.optim.AdamW(model.parameters())

        for _ in range(3):
            train_step(model, optimizer, source, lengths, target)
        start = time.perf_counter()
        for _ in range(10):
            train_step(model, optimizer, source, lengths, target)
        print(f"{name:18s} {(time.perf_counter() - start) / 10 * 1000:.0f} ms/step", flush=True)


if __name__ == "__main__":
    main()
