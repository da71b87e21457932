"""Sequence to sequence: an encoder reads the source, a decoder writes the target.

    python examples/guide_seq2seq.py

What ``rnnkit train --task seq2seq`` builds is :class:`rnnkit.models.seq2seq.Seq2Seq`: a
(bidirectional) encoder, a bridge from its final states to the decoder's first state, and a
decoder that attends to every source step. Training feeds the true previous target token
(teacher forcing); decoding feeds back its own guess, one step at a time (greedy here, beam
search in ``rnnkit predict --beam K``). Letters: N batch, S source steps, T target steps,
V_t target vocabulary, H hidden per direction, D directions.

    source       (N, S)          int64, 0 = padding; lengths (N,)
    memory       (N, S, D*H)     the encoder's outputs, what attention reads
    target_in    (N, T)          <s> then the target without its last token
    logits       (N, T, V_t)
    weights      (N, T, S)       attention: for each output step, a distribution over source steps
"""

from __future__ import annotations

import argparse

import torch

from rnnkit.models.seq2seq import Seq2Seq

BOS = 2  # the id of <s> in this toy vocabulary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-vocab", type=int, default=10)
    parser.add_argument("--target-vocab", type=int, default=12)
    parser.add_argument("--hidden-size", type=int, default=8, help="H")
    parser.add_argument("--max-steps", type=int, default=4)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    model = Seq2Seq(args.source_vocab, args.target_vocab, embedding_dim=8,
                    hidden_size=args.hidden_size, bidirectional=True).eval()
    source = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])  # (N, S), sequence 1 padded
    lengths = torch.tensor([4, 2])  # (N,)
    target_in = torch.tensor([[BOS, 5, 6], [BOS, 7, 3]])  # (N, T)
    logits, weights = model(source, lengths, target_in)  # (N, T, V_t), (N, T, S)
    state = model.encode(source, lengths)
    print(f"Seq2Seq({args.source_vocab}, {args.target_vocab}, hidden_size={args.hidden_size}, "
          "bidirectional=True, attention='general')")
    print(f"  source     {tuple(source.shape)} (N, S), lengths {lengths.tolist()}")
    print(f"  memory     {tuple(state.memory.shape)} (N, S, D*H)")
    print(f"  target_in  {tuple(target_in.shape)} (N, T)")
    print(f"  logits     {tuple(logits.shape)} (N, T, V_t)")
    print(f"  weights    {tuple(weights.shape)} (N, T, S)")
    print("  attention weights sum to 1 over the source:",
          torch.allclose(weights.sum(-1), torch.ones(2, 3)))
    print("  no attention on padded source steps:", bool((weights[1, :, 2:] == 0).all()))

    token, outputs = torch.full((2,), BOS), []  # greedy decoding, one token per step
    for _ in range(args.max_steps):
        step_logits, state = model.step(token, state)  # (N,) -> (N, V_t)
        token = step_logits.argmax(-1)  # (N,)
        outputs.append(token)
    print(f"  step       {tuple(token.shape)} (N,) -> {tuple(step_logits.shape)} (N, V_t); "
          f"greedy output {tuple(torch.stack(outputs, 1).shape)} (N, steps)")


if __name__ == "__main__":
    main()
