"""RecurrentLayer: any cell, stacked, in one or both directions, with torch.nn's interface.

The layer owns every parameter under torch.nn's names (``weight_ih_l0``, ``bias_hh_l1_reverse``,
``weight_hr_l0``, ...), created and initialised in torch.nn's order, so state_dicts move both ways
between rnnkit and torch.nn. ``forward`` runs one of two paths and records which in ``last_path``:

* **fast**: torch's fused kernel (:mod:`rnnkit.nn.fused`), when the configuration is exactly what
  it computes;
* **explicit**: the generic driver (:mod:`rnnkit.nn.driver`), for every cell and option.

While ``torch.export`` traces the layer (``rnnkit export``), it always runs the explicit path,
each layer and direction as one ``scan`` (:mod:`rnnkit.nn.export_scan`), so the exported
graph keeps the length free and takes ``lengths`` as an input.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from rnnkit.nn import fused
from rnnkit.nn.cell_api import CellSpec, State
from rnnkit.nn.docstrings import document_layer
from rnnkit.nn.driver import MERGE_MODES, merge_directions, run_layers
from rnnkit.nn.export_scan import exporting
from rnnkit.nn.layer_io import (
    check_features,
    check_layer_options,
    check_lengths,
    initial_states,
    pack_like,
    time_major,
)
from rnnkit.nn.regularizers import Regularizers

__all__ = ["Path", "RecurrentLayer"]

Path = Literal["auto", "fast", "explicit"]


@document_layer(states=("h", "c"), h_out="H_out")
class RecurrentLayer(nn.Module):
    r"""A stack of recurrent layers of any cell, in one or both directions; torch.nn's interface.

    A subclass sets ``spec_class``, a :class:`~rnnkit.nn.cell_api.CellSpec` that says what one
    step computes; the layer gives it stacking, both directions with merge modes, dropout,
    ``batch_first``, lengths, PackedSequence, initial states and the regularizers. Each layer and
    direction runs :math:`s_t = \mathrm{step}(x_t, s_{t-1})` over the sequence, where :math:`x_t`
    is the layer's input at step t (for layer k > 0 the output of layer k - 1) and the state
    :math:`s_t` is :math:`h_t`, or :math:`(h_t, c_t)` for cells with a cell state. H_out is the
    size of :math:`h_t` (the cell's ``output_size``; H unless a projection changes it).

    Args:
        ${layer_args}
        ``**spec_options``: the cell's own options, keyword-only, passed to ``spec_class``
            (``nonlinearity``, ``proj_size``, ...).
        ${keyword_args}

    ${inputs_outputs}

    A cell with one state (RNN, GRU, ...) takes and returns h alone: ``hx`` is ``h_0`` and the
    outputs are ``output, h_n``.

    ${directions}

    Attributes:
        {name}_l[k]: every parameter the cell names in ``spec.parameter_shapes()``
            (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``, ...) for layer k, with that
            shape; layer 0 reads H_in features, layer k > 0 the output of the layer below.
        ${layer_attributes}
        specs: the cell spec of each layer.
        regularizers: the :class:`~rnnkit.nn.regularizers.Regularizers` settings.

    Example::

        >>> import torch, rnnkit.nn
        >>> class TanhSpec(rnnkit.nn.CellSpec):  # h_t = tanh(W_ih x_t + b + W_hh h_{t-1})
        ...     def step(self, params, x_proj, state, h_rec=None):
        ...         h = state[0] if h_rec is None else h_rec
        ...         return (torch.tanh(x_proj + h @ params["weight_hh"].T),)
        >>> class TanhRNN(rnnkit.nn.RecurrentLayer):
        ...     spec_class = TanhSpec
        >>> layer = TanhRNN(10, 20, bidirectional=True)
        >>> output, h_n = layer(torch.randn(5, 3, 10))  # (L, N, H_in)
        >>> output.shape, h_n.shape, layer.last_path
        (torch.Size([5, 3, 40]), torch.Size([2, 3, 20]), 'explicit')
    """

    spec_class: ClassVar[type[CellSpec]]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        path: Path = "auto",
        merge_mode: str = "concat",
        input_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        weight_drop: float = 0.0,
        **spec_options,
    ) -> None:
        super().__init__()
        check_layer_options(num_layers, batch_first, dropout, bidirectional)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}")
        if merge_mode != "concat" and not bidirectional:
            raise ValueError(
                f"merge_mode={merge_mode!r} combines two directions: it needs bidirectional=True"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.merge_mode = merge_mode
        self.regularizers = Regularizers(input_dropout, recurrent_dropout, zoneout, weight_drop)
        self.path: Path = path  # validated by the property setter
        self.last_path: str | None = None
        self.last_path_reason: str = "no forward pass yet"

        first = self.spec_class(input_size, hidden_size, bias, **spec_options)
        self.regularizers.check(first, type(self).__name__)
        for option, value in first.options().items():  # torch.nn's `proj_size`, ...
            setattr(self, option, value)
        merged = self.num_directions if merge_mode in ("concat", "none") else 1
        upper_input = first.output_size * merged
        self.specs: list[CellSpec] = [first] + [
            self.spec_class(upper_input, hidden_size, bias, **spec_options)
            for _ in range(num_layers - 1)
        ]
        self._layer_names: list[list[dict[str, str]]] = []  # [layer][direction] base -> full
        self._flat_weights_names: list[str] = []
        for layer, spec in enumerate(self.specs):
            directions = []
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                names = {}
                for base, shape in spec.parameter_shapes().items():
                    full = base + suffix
                    empty = torch.empty(shape, device=device, dtype=dtype)
                    self.register_parameter(full, nn.Parameter(empty))
                    names[base] = full
                    self._flat_weights_names.append(full)
                directions.append(names)
            self._layer_names.append(directions)
        self.reset_parameters()

    # -- configuration ------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    @path.setter
    def path(self, value: Path) -> None:
        if value not in ("auto", "fast", "explicit"):
            raise ValueError(f"path must be 'auto', 'fast' or 'explicit', got {value!r}")
        self._path = value

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return self.specs[0].state_sizes()

    @property
    def output_size(self) -> int:
        """Features of ``output`` (its last dim): D * H_out, or H_out for a non-concat merge."""
        if self.merge_mode == "concat":
            return self.specs[-1].output_size * self.num_directions
        return self.specs[-1].output_size

    @property
    def input_dropout(self) -> float:
        return self.regularizers.input_dropout

    @property
    def recurrent_dropout(self) -> float:
        return self.regularizers.recurrent_dropout

    @property
    def zoneout(self) -> float | tuple[float, float]:
        return self.regularizers.zoneout

    @property
    def weight_drop(self) -> float:
        return self.regularizers.weight_drop

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """Parameters grouped per layer and direction, as torch.nn's ``all_weights``."""
        return [
            [getattr(self, full) for full in names.values()]
            for directions in self._layer_names
            for names in directions
        ]

    def cell_parameters(self, layer: int, direction: int = 0) -> dict[str, Tensor]:
        """One cell's parameters keyed by base name (``weight_ih``, ...)."""
        names = self._layer_names[layer][direction]
        return {base: getattr(self, full) for base, full in names.items()}

    def reset_parameters(self) -> None:
        for layer, spec in enumerate(self.specs):
            for direction in range(self.num_directions):
                spec.reset_parameters(self.cell_parameters(layer, direction))

    def flatten_parameters(self) -> None:
        """Lay the weights out in one cuDNN buffer (GPU fast path only; a no-op elsewhere)."""
        mode = self.specs[0].fused_mode
        if mode is not None:
            proj = getattr(self.specs[0], "proj_size", 0)
            fused.flatten_for_cudnn(
                mode, self._flat_weights, self.input_size, self.hidden_size, proj,
                self.num_layers, self.bias, self.bidirectional,
            )

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        self.flatten_parameters()
        return result

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        extra = self.specs[0].extra_repr()
        if extra:
            text += f", {extra}"
        if self.merge_mode != "concat":
            text += f", merge_mode={self.merge_mode!r}"
        for name, default in (("input_dropout", 0.0), ("recurrent_dropout", 0.0),
                              ("zoneout", 0.0), ("weight_drop", 0.0)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.path != "auto":
            text += f", path={self.path!r}"
        return text

    # -- path choice ----------------------------------------------------------------------------
    def explicit_reason(self) -> str | None:
        """Why this configuration cannot use a fused kernel, or None if it can.

        Depends on the mode: dropout-like regularizers act in training only, so in evaluation a
        layer with them can run the fused kernel; zoneout acts (as its expectation) in both.
        """
        return fused.unfused_reason(
            self.specs[0], self.merge_mode, self.num_layers, self.regularizers, self.training
        )

    def _choose_path(self, x: Tensor) -> tuple[str, str]:
        if self.path == "explicit":
            return "explicit", "path='explicit' was requested"
        if exporting():
            return "explicit", "torch.export is tracing it: the step loop becomes one scan"
        reason = self.explicit_reason()
        if reason is not None:
            if self.path == "fast":
                raise ValueError(f"path='fast' was requested but is impossible: {reason}")
            return "explicit", reason
        backend = "cuDNN" if x.is_cuda and torch.backends.cudnn.enabled else "ATen/oneDNN"
        return "fast", (
            f"torch's fused {self.specs[0].fused_mode} kernel ({backend}) computes exactly "
            "this configuration; it runs on this module's own parameters"
        )

    def explain(self) -> str:
        """Which execution path the last forward pass took, and why."""
        if self.last_path is None:
            reason = self.explicit_reason()
            if self.path == "explicit" or reason is not None:
                why = reason or "path='explicit' was requested"
                return f"{type(self).__name__}: will run the explicit path: {why}"
            return f"{type(self).__name__}: will run the fast path (torch's fused kernel)"
        return f"{type(self).__name__}: ran the {self.last_path} path: {self.last_path_reason}"

    # -- forward --------------------------------------------------------------------------------
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Tensor | State | None = None,
        lengths: Tensor | None = None,
    ):
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError(f"{name}: a PackedSequence carries its lengths; pass no lengths=")
            return self._forward_packed(input, hx)
        x, batched = time_major(name, input, self.batch_first, lengths is not None)  # (L, N, H_in)
        check_features(name, input, self.input_size, self._flat_weights[0])
        seq_len, batch = x.shape[0], x.shape[1]
        states = self._initial_states(hx, batch, batched)
        lengths = check_lengths(name, lengths, batch, seq_len)

        path, self.last_path_reason = self._choose_path(x)
        self.last_path = path
        if path == "fast":
            output, finals = fused.run_fused(
                self.specs[0].fused_mode, x, states, lengths, *self._fused_options()
            )
            output = self._merge_fused(output)
        else:
            output, finals = self._run_explicit(x, states, lengths)

        if batched:
            output = output.transpose(0, 1) if self.batch_first else output
        else:
            output = output.squeeze(1)
            finals = tuple(s.squeeze(1) for s in finals)
        return output, self._format_state(finals)

    def step(
        self, input: Tensor, hx: Tensor | State | None = None
    ) -> tuple[Tensor, Tensor | State]:
        """One time step of the whole stack, for streaming: what ``forward`` computes at that step.

        Runs ``forward``'s explicit path (each cell's :meth:`~rnnkit.nn.CellSpec.step`) on a
        sequence of length one, so every cell and every regularizer act exactly as they do
        there; the work per step does not grow with the steps already taken. In training, the
        per-sequence masks (``input_dropout``, ``recurrent_dropout``, ``weight_drop``) are
        drawn afresh at every call, since each call is a sequence of its own; in evaluation
        stepping equals ``forward`` over the whole sequence. A bidirectional layer reads the
        whole sequence, so it cannot be stepped.

        Inputs: ``input, hx=None``
            * **input**: ``(N, H_in)``, or ``(H_in,)`` for one unbatched step (``batch_first``
              changes nothing here).
            * **hx**: as ``forward``'s: ``h`` or ``(h, c)``, each ``(num_layers, N, S)``
              (``(num_layers, S)`` unbatched), S the size of that state; zeros when omitted.

        Outputs: ``output, new_state``
            * **output**: ``(N, H_out)`` (``(H_out,)`` unbatched), the top layer's
              :math:`h_t`.
            * **new_state**: the state after the step, shaped like ``hx``.

        Example::

            >>> import torch, rnnkit.nn
            >>> lstm = rnnkit.nn.LSTM(3, 4, num_layers=2, batch_first=True).eval()
            >>> x = torch.randn(2, 5, 3)  # (N, L, H_in)
            >>> state = None
            >>> for t in range(5):
            ...     out, state = lstm.step(x[:, t], state)  # out (N, H_out)
            >>> torch.allclose(out, lstm(x)[0][:, -1], atol=1e-6)
            True
        """
        name = type(self).__name__
        if self.bidirectional:
            raise ValueError(
                f"{name}.step: a bidirectional layer reads the whole sequence; it cannot be "
                "stepped"
            )
        if not isinstance(input, Tensor) or input.dim() not in (1, 2):
            found = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"{name}.step: expected input of shape (N, H_in) or (H_in,) unbatched, "
                f"found {found}"
            )
        time_dim = 1 if self.batch_first and input.dim() == 2 else 0
        # The cells' own step: torch's fused kernel lays its weights out anew at every call,
        # which for one step costs several times the step itself (an LSTM of 512: 9 ms vs 3).
        chosen, self._path = self._path, "explicit"
        try:
            output, state = self(input.unsqueeze(time_dim), hx)  # a sequence of length 1
        finally:
            self._path = chosen
        return output.squeeze(time_dim), state

    def _forward_packed(self, packed: PackedSequence, hx):
        check_features(type(self).__name__, packed.data, self.input_size, self._flat_weights[0])
        batch = int(packed.batch_sizes[0])
        states = self._initial_states(hx, batch, True)
        path, self.last_path_reason = self._choose_path(packed.data)
        self.last_path = path
        if path == "fast":
            output, finals = fused.run_fused_packed(
                self.specs[0].fused_mode, packed, states, *self._fused_options()
            )
            output = PackedSequence(
                self._merge_fused(output.data), output.batch_sizes, output.sorted_indices,
                output.unsorted_indices,
            )
            return output, self._format_state(finals)
        x, lengths = pad_packed_sequence(packed)  # (L, N, H_in), original batch order
        out, finals = self._run_explicit(x, states, lengths)
        return pack_like(out, packed), self._format_state(finals)

    def _fused_options(self) -> tuple:
        """The fused kernels' arguments after the states: weights, bias, layers, dropout, ..."""
        return (
            self._flat_weights, self.bias, self.num_layers, self.dropout, self.training,
            self.bidirectional,
        )

    def _merge_fused(self, output: Tensor) -> Tensor:
        """Apply a non-concat merge mode to the fused kernel's concatenated ``(..., 2H)`` output.

        Exact because the fused path runs a non-concat mode only where no layer reads the merged
        output (one layer, or ``"none"``, which concatenates between layers).
        """
        if self.merge_mode == "concat":
            return output
        return merge_directions(output.chunk(2, dim=-1), self.merge_mode)

    def _run_explicit(
        self, x: Tensor, states: tuple[Tensor, ...], lengths: Tensor | None
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Explicit path on time-major ``x (L, N, H_in)``; states each ``(D*num_layers, N, S)``;
        ``lengths (N,)`` or None."""
        count = self.num_layers * self.num_directions
        initial = [tuple(s[k] for s in states) for k in range(count)]
        layer_params = [
            [self.cell_parameters(layer, d) for d in range(self.num_directions)]
            for layer in range(self.num_layers)
        ]
        output, finals = run_layers(
            self.specs, layer_params, x, initial, lengths, self.dropout, self.training,
            self.merge_mode, self.regularizers,
        )
        stacked = tuple(torch.stack([f[i] for f in finals]) for i in range(len(states)))
        return output, stacked

    def _initial_states(
        self, hx: Tensor | State | None, batch: int, batched: bool
    ) -> tuple[Tensor, ...]:
        """The initial states as a tuple, each ``(D*num_layers, N, S)``."""
        return initial_states(
            type(self).__name__, hx, self.specs[0].state_names, self.state_sizes,
            self.num_layers * self.num_directions, batch, batched, self._flat_weights[0],
        )

    def _format_state(self, finals: tuple[Tensor, ...]):
        return finals if len(finals) > 1 else finals[0]
