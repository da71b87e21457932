"""One LSTM step by hand, gate by gate, checked against rnnkit.nn.LSTM and torch.nn.LSTM.

A companion to docs/inside-an-lstm.md. Run it and read the printout next to the text::

    python examples/lstm_step_by_hand.py

Letters: N batch, F input features, H hidden size. Everything is float64 so that the three
implementations can agree to the last few digits.
"""

from __future__ import annotations

import numpy as np
import torch

import rnnkit.nn
from rnnkit import reference as ref

N, F, H = 2, 3, 4


def show(name: str, array: np.ndarray, meaning: str) -> None:
    print(f"  {name:<7} {str(array.shape):<9} {meaning}")


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def main() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(F, H, dtype=torch.float64)  # the layer we want to understand
    p = ref.params_from_state_dict(lstm.state_dict())  # its weights as NumPy arrays

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, F))  # one time step of input for each of N sequences
    h = rng.standard_normal((N, H))  # the previous hidden state
    c = rng.standard_normal((N, H))  # the previous cell state

    print("Parameters (torch stacks the four gates i, f, g, o in one matrix):")
    show("W_ih", p["weight_ih_l0"], "weight_ih_l0, (4H, F): input -> the 4 gates")
    show("W_hh", p["weight_hh_l0"], "weight_hh_l0, (4H, H): previous h -> the 4 gates")
    show("b_ih", p["bias_ih_l0"], "bias_ih_l0, (4H,)")
    show("b_hh", p["bias_hh_l0"], "bias_hh_l0, (4H,)")
    print("Inputs:")
    show("x", x, "x_t, one step for N sequences")
    show("h", h, "h_{t-1}")
    show("c", c, "c_{t-1}")

    # All four gates at once: one matrix product for x, one for h, two biases.
    a = x @ p["weight_ih_l0"].T + p["bias_ih_l0"] + h @ p["weight_hh_l0"].T + p["bias_hh_l0"]
    print("Pre-activations of all gates:")
    show("a", a, "x W_ih^T + b_ih + h W_hh^T + b_hh, columns [i | f | g | o]")

    # Then cut the 4H columns into four blocks of H and squash each one.
    print("Gates, one by one:")
    i = sigmoid(a[:, 0 * H : 1 * H])
    show("i", i, "input gate  = sigmoid(a[:, 0:H])    how much new content to write")
    f = sigmoid(a[:, 1 * H : 2 * H])
    show("f", f, "forget gate = sigmoid(a[:, H:2H])   how much old memory to keep")
    g = np.tanh(a[:, 2 * H : 3 * H])
    show("g", g, "candidate   = tanh(a[:, 2H:3H])     the new content itself")
    o = sigmoid(a[:, 3 * H : 4 * H])
    show("o", o, "output gate = sigmoid(a[:, 3H:4H])  how much memory to reveal")

    print("New state:")
    c_new = f * c + i * g
    show("c_new", c_new, "c_t = f * c_{t-1} + i * g")
    h_new = o * np.tanh(c_new)
    show("h_new", h_new, "h_t = o * tanh(c_t)")

    # The same step through three other doors.
    step = {k.removesuffix("_l0"): v for k, v in p.items()}
    h_ref, c_ref, _ = ref.lstm_cell_forward(x, h, c, step)

    def as_torch(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a)[None]  # add the layer axis (1, N, H) / the time axis (1, N, F)

    with torch.no_grad():
        _, (h_torch, c_torch) = lstm(as_torch(x), (as_torch(h), as_torch(c)))
        ours = rnnkit.nn.LSTM(F, H, dtype=torch.float64, path="explicit")
        ours.load_state_dict(lstm.state_dict())
        _, (h_ours, c_ours) = ours(as_torch(x), (as_torch(h), as_torch(c)))

    print("Max abs difference from the hand computation (h_t, c_t):")
    for name, (hh, cc) in {
        "rnnkit.reference.lstm_cell_forward": (h_ref, c_ref),
        "rnnkit.nn.LSTM (explicit path)": (h_ours[0].numpy(), c_ours[0].numpy()),
        "torch.nn.LSTM": (h_torch[0].numpy(), c_torch[0].numpy()),
    }.items():
        diff_h, diff_c = np.abs(hh - h_new).max(), np.abs(cc - c_new).max()
        print(f"  {name:<36} {diff_h:.1e}  {diff_c:.1e}")
        assert max(diff_h, diff_c) < 1e-12, name


if __name__ == "__main__":
    main()
