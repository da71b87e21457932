"""The tutorials' classic bugs, run: what torch.nn does, what rnnkit does.

    python examples/guide_bugs.py

Each case runs the mistake and prints the error (or the silent wrong answer) it produces, so
the table in docs/guide.md is what this torch and this rnnkit really do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

import rnnkit.nn
from rnnkit.models import SequenceClassifier

N, L, F, H = 3, 5, 2, 4


def outcome(run: Callable[[], object]) -> str:
    """What ``run``'s call raised (``Type: message``), or the warnings it gave, or 'no error'."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run()
        except Exception as error:  # noqa: BLE001 - showing every kind of error is the point
            return f"{type(error).__name__}: {error}"
    if caught:
        return "; ".join(f"{w.category.__name__}: {w.message}" for w in caught)
    return "no error"


class Forwar(nn.Module):
    """The tutorial's model, ``forward`` spelt ``forwar``; its parent is nn.Module."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(F, H, batch_first=True)

    def forwar(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0][:, -1]


class ForwarOnAModel(SequenceClassifier):
    """The same typo in a subclass of a model that has a forward: the parent's runs instead."""

    def forwar(self, x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("never called")


def main(argv: list[str] | None = None) -> None:
    torch.manual_seed(0)
    x = torch.randn(N, L, F)  # (N, L, F)
    h0 = torch.zeros(1, N, H)  # (num_layers*D, N, H) for one layer, one direction

    print("1. out[:, -1] of a bidirectional output")
    bi = rnnkit.nn.LSTM(F, H, batch_first=True, bidirectional=True)
    out, _ = bi(x)  # (N, L, 2H)
    last_only, _ = bi(x[:, -1:])  # the last step ALONE, (N, 1, 2H)
    print("   backward half of out[:, -1] == the backward direction run on the last step alone:",
          torch.allclose(out[:, -1, H:], last_only[:, 0, H:], atol=1e-6))
    model = SequenceClassifier(F, 10, hidden_size=H, bidirectional=True, summary="last")
    out, (h_n, _) = model.rnn(x)  # (N, L, 2H), (2, N, H)
    summary = model.summary(out)  # (N, 2H)
    print("   rnnkit's summary 'last' == torch.cat([h_n[-2], h_n[-1]], 1):",
          torch.allclose(summary, torch.cat([h_n[-2], h_n[-1]], 1), atol=1e-6))

    print("2. an (h0, c0) tuple given to a single-state layer (RNN, GRU)")
    print("   torch.nn.RNN: ", outcome(lambda: nn.RNN(F, H, batch_first=True)(x, (h0, h0))))
    print("   rnnkit.nn.RNN:", outcome(lambda: rnnkit.nn.RNN(F, H, batch_first=True)(x, (h0, h0))))
    print("   rnnkit.nn.GRU:", outcome(lambda: rnnkit.nn.GRU(F, H, batch_first=True)(x, (h0, h0))))

    print("3. h0 alone given to an LSTM")
    print("   torch.nn.LSTM: ", outcome(lambda: nn.LSTM(F, H, batch_first=True)(x, h0)))
    print("   rnnkit.nn.LSTM:", outcome(lambda: rnnkit.nn.LSTM(F, H, batch_first=True)(x, h0)))

    print("4. h0 of one direction given to a bidirectional layer (num_layers, not num_layers*2)")
    print("   torch.nn.GRU: ", outcome(
        lambda: nn.GRU(F, H, batch_first=True, bidirectional=True)(x, h0)))
    print("   rnnkit.nn.GRU:", outcome(
        lambda: rnnkit.nn.GRU(F, H, batch_first=True, bidirectional=True)(x, h0)))

    print("5. dropout=0.5 with num_layers=1")
    print("   torch.nn.LSTM: ", outcome(lambda: nn.LSTM(F, H, dropout=0.5)))
    print("   rnnkit.nn.LSTM:", outcome(lambda: rnnkit.nn.LSTM(F, H, dropout=0.5)))

    print("6. forward spelt forwar")
    print("   parent nn.Module:          ", outcome(lambda: Forwar()(x)))
    typo = ForwarOnAModel(F, 10, hidden_size=H)
    print("   parent SequenceClassifier: ", outcome(lambda: typo(x)), "- the parent's forward",
          f"ran, output {tuple(typo(x).shape)}")

    print("7. self.run for self.rnn (the tutorial's other typo)")
    print("  ", outcome(lambda: Forwar().run))

    print("8. batch-first data given to a layer built with batch_first=False")
    print("   torch.nn.GRU: ", outcome(lambda: nn.GRU(F, H)(x)))
    print("   rnnkit.nn.GRU:", outcome(lambda: rnnkit.nn.GRU(F, H)(x)))

    print("9. h0 built by hand of another dtype (or on another device: .cuda() on a CPU model)")
    h64 = torch.zeros(1, N, H, dtype=torch.float64)
    print("   torch.nn.GRU: ", outcome(lambda: nn.GRU(F, H, batch_first=True)(x, h64)))
    print("   rnnkit.nn.GRU:", outcome(lambda: rnnkit.nn.GRU(F, H, batch_first=True)(x, h64)))


if __name__ == "__main__":
    main()
