"""Many-to-many: a label for every step (tagging), from a bidirectional layer.

    python examples/guide_many_to_many.py

What ``rnnkit train --task tag`` builds is :class:`rnnkit.models.tagger.SequenceTagger`: token
or numeric features, a recurrent layer (two directions by default: each step sees its left AND
right context), a linear layer applied at every step, optionally a CRF. Letters: N batch,
L steps, F features, H hidden, D directions, T tags.

    x           (N, L, F)     lengths (N,)
    output      (N, L, D*H)   the recurrent layer's output, every step
    emissions   (N, L, T)     one score per tag per step: nn.Linear acts on the last axis
    tags        (N, L)        the best tag of every step (argmax, or Viterbi with a CRF)

A ``Linear`` takes ``(N, L, D*H)`` as it is; the tutorials' ``view(-1, D*H)``, ``fc``,
``view(N, L, -1)`` gives the same numbers (and mixes sequences up when the output is time first).
"""

from __future__ import annotations

import argparse

import torch

from rnnkit.models.tagger import SequenceTagger


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input-size", type=int, default=2, help="F")
    parser.add_argument("--hidden-size", type=int, default=4, help="H")
    parser.add_argument("--tags", type=int, default=6, help="T")
    args = parser.parse_args(argv)
    f, h, t = args.input_size, args.hidden_size, args.tags

    torch.manual_seed(0)
    model = SequenceTagger(t, input_size=f, hidden_size=h, bidirectional=True).eval()
    x, lengths = torch.randn(3, 5, f), torch.tensor([5, 3, 2])  # (N, L, F), (N,)
    output, _ = model.rnn(x, lengths=lengths)  # (N, L, 2H)
    emissions = model(x, lengths)  # (N, L, T)
    tags = model.decode(emissions, lengths)  # (N, L)
    print(f"SequenceTagger({t}, input_size={f}, hidden_size={h}, bidirectional=True)")
    print(f"  x          {tuple(x.shape)} (N, L, F), lengths {lengths.tolist()}")
    print(f"  output     {tuple(output.shape)} (N, L, D*H)")
    print(f"  emissions  {tuple(emissions.shape)} (N, L, T)")
    print(f"  tags       {tuple(tags.shape)} (N, L)")
    reshaped = model.scores(output.reshape(-1, 2 * h)).view(3, 5, -1)  # the tutorials' way
    print("  scores(output) == view(-1, D*H) -> fc -> view(N, L, -1):",
          torch.allclose(model.scores(output), reshaped))
    alone = model(x[2:3, :2], None)  # sequence 2 without its padding: (1, 2, T)
    print("  padding changes nothing: sequence 2 alone, (1, 2, F), gives the same emissions:",
          torch.allclose(alone, emissions[2:3, :2], atol=1e-6))


if __name__ == "__main__":
    main()
