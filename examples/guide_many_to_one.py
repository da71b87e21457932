"""Many-to-one: one label per sequence, from a (bidirectional) recurrent layer.

    python examples/guide_many_to_one.py

What ``rnnkit train`` builds for classification (``--task classify``; row MNIST, your
sequences, texts) is :class:`rnnkit.models.SequenceClassifier`: a recurrent layer, a summary
of its outputs, a linear head. Letters: N batch, L steps, F features, H hidden, D directions,
C classes.

    x         (N, L, F)      padded batch; lengths (N,) says how many steps are real
    output    (N, L, D*H)    zero on padded steps
    summary   (N, D*H)       "last": forward half at step lengths-1, backward half at step 0
    logits    (N, C)

The tutorials' ``out[:, -1]`` is wrong twice here: for a bidirectional layer its backward half
has read one step, and for a padded sequence it is a padded step.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import rnnkit.nn
from rnnkit.models import SequenceClassifier


class HandWritten(nn.Module):
    """The forward to write yourself for a bidirectional classifier: read the final states in
    ``h_n``, not ``out[:, -1]``. Inputs ``x (N, L, F), lengths (N,) or None``; output (N, C)."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.rnn = rnnkit.nn.LSTM(input_size, hidden_size, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        _, (h_n, _) = self.rnn(x, lengths=lengths)  # h_n (num_layers*2, N, H), zeros h0
        both = torch.cat([h_n[-2], h_n[-1]], dim=1)  # (N, 2H): top layer, forward | backward
        return self.fc(both)  # (N, C)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input-size", type=int, default=2, help="F")
    parser.add_argument("--hidden-size", type=int, default=4, help="H")
    parser.add_argument("--classes", type=int, default=10, help="C")
    args = parser.parse_args(argv)
    f, h = args.input_size, args.hidden_size

    torch.manual_seed(0)
    model = SequenceClassifier(f, args.classes, cell="lstm", hidden_size=h,
                               bidirectional=True, summary="last").eval()
    lengths = torch.tensor([5, 3, 2])  # (N,)
    x = torch.randn(3, 5, f)  # (N, L, F)
    x[1, 3:] = 0.0  # padding (any value would do: padded steps never reach a state)
    x[2, 2:] = 0.0
    output, _ = model.rnn(x, lengths=lengths)  # (N, L, 2H)
    summary = model.summary(output, lengths)  # (N, 2H)
    logits = model(x, lengths)  # (N, C)
    print(f"SequenceClassifier({f}, {args.classes}, cell='lstm', hidden_size={h}, "
          "bidirectional=True, summary='last')")
    print(f"  x        {tuple(x.shape)} (N, L, F), lengths {lengths.tolist()}")
    print(f"  output   {tuple(output.shape)} (N, L, D*H)")
    print(f"  padded steps of output are zero: {bool((output[1, 3:] == 0).all())}")
    print(f"  summary  {tuple(summary.shape)} (N, D*H)")
    print(f"  logits   {tuple(logits.shape)} (N, C)")
    forward_last = output[torch.arange(3), lengths - 1, :h]  # (N, H)
    print("  summary == [output[n, lengths[n]-1, :H], output[n, 0, H:]]:",
          torch.allclose(summary, torch.cat([forward_last, output[:, 0, h:]], 1)))
    print("  summary == output[:, -1] (the tutorials' choice):",
          torch.allclose(summary, output[:, -1]))
    by_hand = HandWritten(f, h, args.classes).eval()
    by_hand.rnn.load_state_dict(model.rnn.state_dict())  # the same recurrent weights
    print("  HandWritten's [h_n[-2], h_n[-1]] == the summary 'last':",
          torch.allclose(torch.cat(list(by_hand.rnn(x, lengths=lengths)[1][0]), 1), summary,
                         atol=1e-6),
          f"-> logits {tuple(by_hand(x, lengths).shape)}")
    alone = model(x[1:2, :3], None)  # sequence 1 without its padding: (1, C)
    print("  padding changes nothing: sequence 1 alone, (1, 3, F), gives the same logits:",
          torch.allclose(alone, logits[1:2], atol=1e-6))


if __name__ == "__main__":
    main()
