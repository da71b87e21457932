"""The fast path: torch's fused recurrent kernels (cuDNN on GPU, ATen/oneDNN on CPU).

These functions call the same kernels as torch.nn.RNN/LSTM/GRU, with a module's own parameters
passed in torch's flat order (per layer and direction: ``w_ih, w_hh, b_ih, b_hh, w_hr``). Nothing
is copied: the kernels read the parameter tensors directly. :func:`unfused_reason` says when a
configuration is one the kernels do not compute (then the layer runs the explicit path).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import _VF, Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.nn.cell_api import CellSpec
from rnnkit.nn.regularizers import Regularizers

__all__ = ["KERNELS", "flatten_for_cudnn", "run_fused", "run_fused_packed", "unfused_reason"]

KERNELS = {
    "LSTM": _VF.lstm,
    "GRU": _VF.gru,
    "RNN_TANH": _VF.rnn_tanh,
    "RNN_RELU": _VF.rnn_relu,
}


def unfused_reason(
    spec: CellSpec, merge_mode: str, num_layers: int, regularizers: Regularizers, training: bool
) -> str | None:
    """Why no fused kernel computes this layer configuration, or None if one does.

    Depends on the mode: dropout-like regularizers act in training only, so in evaluation a
    layer with them can run the fused kernel; zoneout acts (as its expectation) in both.
    """
    reasons = []
    if spec.fused_mode is None:
        reasons.append(f"{type(spec).__name__} has no fused torch kernel")
    if merge_mode in ("sum", "mean", "mul") and num_layers > 1:
        reasons.append(
            f"merge_mode={merge_mode!r} feeds the merged output to the next layer; "
            "torch's fused kernel concatenates the directions between layers"
        )
    active = regularizers.active(training)
    if active:
        mode = "training" if training else "evaluation"
        described = regularizers.describe(training)
        text = f"regularizers act in {mode} mode ({described}); torch's fused kernels have none"
        per_step = [name for name in ("recurrent_dropout", "zoneout") if name in active]
        if per_step:
            verb = "acts" if len(per_step) == 1 else "act"
            text += f"; {' and '.join(per_step)} {verb} in every step, so the step loop runs"
        reasons.append(text)
    return "; ".join(reasons) if reasons else None


def _hidden_arg(mode: str, states: tuple[Tensor, ...]) -> Tensor | tuple[Tensor, ...]:
    return states if mode == "LSTM" else states[0]


def run_fused(
    mode: str,
    x: Tensor,
    states: tuple[Tensor, ...],
    lengths: Tensor | None,
    weights: Sequence[Tensor],
    bias: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Time-major padded input ``x (L, N, H_in)``; ``states`` each ``(num_layers*D, N, S)``.

    ``lengths (N,)``, when given, are the valid steps: the input is packed for the kernel and the
    output padded again (with zeros).

    Returns ``output (L, N, D*H_out)`` and the final states shaped like ``states``.
    """
    if lengths is not None:
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        packed_out, finals = run_fused_packed(
            mode, packed, states, weights, bias, num_layers, dropout, training, bidirectional
        )
        output, _ = pad_packed_sequence(packed_out, total_length=x.shape[0])
        return output, finals
    result = KERNELS[mode](
        x, _hidden_arg(mode, states), list(weights), bias, num_layers, dropout, training,
        bidirectional, False,
    )
    return result[0], tuple(result[1:])


def run_fused_packed(
    mode: str,
    packed: PackedSequence,
    states: tuple[Tensor, ...],
    weights: Sequence[Tensor],
    bias: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
) -> tuple[PackedSequence, tuple[Tensor, ...]]:
    """Packed input; ``states`` each ``(num_layers*D, N, S)`` in the caller's batch order.

    Returns the packed output and the final states in the caller's batch order.
    """
    if packed.sorted_indices is not None:
        states = tuple(s.index_select(1, packed.sorted_indices) for s in states)
    result = KERNELS[mode](
        packed.data, packed.batch_sizes, _hidden_arg(mode, states), list(weights), bias,
        num_layers, dropout, training, bidirectional,
    )
    finals = tuple(result[1:])
    if packed.unsorted_indices is not None:
        finals = tuple(s.index_select(1, packed.unsorted_indices) for s in finals)
    output = PackedSequence(
        result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )
    return output, finals


def flatten_for_cudnn(
    mode: str,
    weights: Sequence[Tensor],
    input_size: int,
    hidden_size: int,
    proj_size: int,
    num_layers: int,
    bias: bool,
    bidirectional: bool,
) -> None:
    """Make the weights views of one contiguous cuDNN buffer, as torch.nn does.

    Without it cuDNN still runs, but copies the weights into such a buffer on every call. A no-op
    unless every weight is a distinct CUDA tensor of one dtype that cuDNN accepts.
    """
    if not weights or not all(isinstance(w, Tensor) and w.is_cuda for w in weights):
        return
    dtype = weights[0].dtype
    if any(w.dtype != dtype or not torch.backends.cudnn.is_acceptable(w) for w in weights):
        return
    if len({w.data_ptr() for w in weights}) != len(weights):
        return
    from torch.backends.cudnn import rnn as cudnn_rnn

    num_weights = (4 if bias else 2) + (1 if proj_size > 0 else 0)
    with torch.cuda.device_of(weights[0]), torch.no_grad():
        if torch._use_cudnn_rnn_flatten_weight():
            torch._cudnn_rnn_flatten_weight(
                list(weights), num_weights, input_size, cudnn_rnn.get_cudnn_mode(mode),
                hidden_size, proj_size, num_layers, False, bidirectional,
            )
