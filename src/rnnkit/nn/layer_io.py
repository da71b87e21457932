"""What a recurrent module is given and returns: checks, initial states and packed sequences.

:class:`~rnnkit.nn.recurrent_layer.RecurrentLayer` and :class:`~rnnkit.nn.cell_api.RecurrentCell`
validate what they are given here, with specific ``ValueError`` messages that name the module
(``owner``) and what was expected: the layer's constructor options, the input's layout and
features, its dtype and device against the parameters', the initial states and the lengths.
The explicit path runs on padded tensors, so a :class:`~torch.nn.utils.rnn.PackedSequence`
output is rebuilt from the padded one (:func:`pack_like`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from rnnkit.nn.export_scan import exporting

__all__ = [
    "check_dtype_device",
    "check_layer_options",
    "check_features",
    "check_lengths",
    "initial_states",
    "pack_like",
    "time_major",
]


def check_layer_options(
    num_layers: int, batch_first: bool, dropout: float, bidirectional: bool
) -> None:
    """Raise ValueError for a layer option out of its range; warn about dropout with one layer."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers <= 0:
        raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not (
        0 <= dropout <= 1
    ):
        raise ValueError(f"dropout must be a number in [0, 1], got {dropout!r}")
    for name, flag in (("batch_first", batch_first), ("bidirectional", bidirectional)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be a bool, got {flag!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"dropout={dropout} acts between stacked layers, so it has no effect with "
            "num_layers=1",
            stacklevel=3,  # the caller of RecurrentLayer.__init__
        )


def check_dtype_device(what: str, tensor: Tensor, reference: Tensor) -> None:
    """Raise ValueError unless ``tensor`` has the dtype and device of ``reference`` (a parameter).

    ``what`` names the tensor in the message (``"LSTM input"``, ``"LSTMCell c"``, ...).
    """
    if tensor.dtype != reference.dtype:
        raise ValueError(
            f"{what}: expected dtype {reference.dtype} (the parameters' dtype), "
            f"found {tensor.dtype}"
        )
    if tensor.device != reference.device:
        raise ValueError(
            f"{what}: expected a tensor on {reference.device} (the parameters' device), "
            f"found {tensor.device}"
        )


def check_features(owner: str, x: Tensor, input_size: int, reference: Tensor) -> None:
    """Raise ValueError unless ``x (..., H_in)`` has ``input_size`` features and ``reference``'s
    dtype and device."""
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{owner}: expected input with {input_size} features (last dim), "
            f"found shape {tuple(x.shape)}"
        )
    check_dtype_device(f"{owner} input", x, reference)


def time_major(
    owner: str, input: object, batch_first: bool, has_lengths: bool
) -> tuple[Tensor, bool]:
    """A layer's tensor input as time-major ``(L, N, H_in)``, and whether it had a batch dim.

    ``input`` is ``(L, N, H_in)``, ``(N, L, H_in)`` when ``batch_first``, or unbatched
    ``(L, H_in)`` (which gains ``N = 1``; it cannot come with lengths).
    """
    if not isinstance(input, Tensor) or input.dim() not in (2, 3):
        found = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        layout = "(N, L, H_in)" if batch_first else "(L, N, H_in)"
        raise ValueError(
            f"{owner}: expected input of shape {layout} or (L, H_in) unbatched, found {found}"
        )
    if input.dim() == 3:
        return (input.transpose(0, 1) if batch_first else input), True
    if has_lengths:
        raise ValueError(f"{owner}: lengths= needs batched input, found unbatched (L, H_in)")
    return input.unsqueeze(1), False


def initial_states(
    owner: str,
    hx: Tensor | Sequence[Tensor] | None,
    state_names: Sequence[str],
    sizes: Sequence[int],
    count: int,
    batch: int,
    batched: bool,
    reference: Tensor,
) -> tuple[Tensor, ...]:
    """A layer's initial states as a tuple, each ``(count, N, S)``; zeros when ``hx`` is None.

    Args:
        owner: the layer's name, for messages.
        hx: one tensor per state (a bare tensor for a single state), each
            ``(count, N, S)``, or ``(count, S)`` when the input is unbatched.
        state_names: ``("h",)`` or ``("h", "c")``.
        sizes: S of each state.
        count: D * num_layers.
        batch: N.
        batched: whether the input had a batch dimension (unbatched states gain one at dim 1).
        reference: a parameter; the states must have its dtype and device.
    """
    if hx is None:
        return tuple(reference.new_zeros(count, batch, size) for size in sizes)
    hx_tuple = hx if isinstance(hx, tuple | list) else (hx,)
    if len(hx_tuple) != len(sizes):
        shapes = ", ".join(f"{name} of shape {(count, batch, size) if batched else (count, size)}"
                           for name, size in zip(state_names, sizes, strict=True))
        expected = f"one tensor, {shapes}" if len(sizes) == 1 else (
            f"a tuple of {len(sizes)} tensors ({shapes})")
        found = "one tensor" if isinstance(hx, Tensor) else (
            f"a {type(hx).__name__} of {len(hx_tuple)} tensors")
        hint = ("; an (h0, c0) pair is for LSTM-like layers"
                if len(sizes) == 1 and len(hx_tuple) == 2 else "")
        raise ValueError(f"{owner}: expected hx as {expected}, found {found}{hint}")
    states = []
    for state_name, size, h in zip(state_names, sizes, hx_tuple, strict=True):
        expected = (count, batch, size) if batched else (count, size)
        if not isinstance(h, Tensor) or tuple(h.shape) != expected:
            found = tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__
            raise ValueError(
                f"{owner}: expected initial {state_name} of shape {expected} "
                f"(D*num_layers, {'N, ' if batched else ''}{state_name}_size), found {found}"
            )
        check_dtype_device(f"{owner} initial {state_name}", h, reference)
        states.append(h if batched else h.unsqueeze(1))
    return tuple(states)


def check_lengths(owner: str, lengths: Tensor | None, batch: int, seq_len: int) -> Tensor | None:
    """``lengths (N,)`` as int64, checked to lie in ``[1, L]``; None when absent or all equal L.

    None means "every step is valid", so the caller needs no mask. While ``torch.export`` traces
    (ONNX export), the values are a graph input, so they are not checked and the mask is kept.
    """
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"{owner}: expected lengths of shape ({batch},), found {tuple(lengths.shape)}"
        )
    if lengths.is_floating_point() or lengths.is_complex():
        raise ValueError(f"{owner}: expected integer lengths, found {lengths.dtype}")
    if exporting():  # a graph input: its values are not known here
        return lengths.long()
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > seq_len:
        raise ValueError(
            f"{owner}: expected lengths between 1 and the sequence length {seq_len}, "
            f"found values from {low} to {high}"
        )
    return None if low == seq_len else lengths.long()


def pack_like(padded: Tensor, packed: PackedSequence) -> PackedSequence:
    """``padded (L, N, *)``, in ``packed``'s original batch order, as a sequence packed like it.

    The inverse of ``pad_packed_sequence(packed)`` for an output computed from it: same
    ``batch_sizes``, ``sorted_indices`` and ``unsorted_indices``.
    """
    if packed.sorted_indices is not None:
        padded = padded.index_select(1, packed.sorted_indices)  # packing order
    steps = torch.arange(padded.shape[1], device=padded.device)
    valid = steps[None, :] < packed.batch_sizes.to(padded.device)[:, None]  # (L, N)
    return PackedSequence(
        padded[valid], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )
