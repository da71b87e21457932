"""The parts of the layers' and cells' docstrings that every one of them shares, written once.

Every public layer and cell carries a complete docstring (``help(rnnkit.nn.LSTM)`` is enough on
its own): equations, Args, Inputs, Outputs, Attributes and an Example. What differs between them
(the equations, their own arguments, their parameters, the example) is written in the class's
docstring; what is the same (the common arguments, rnnkit's keyword-only extras, the input and
output shapes, how ``h_n`` relates to ``output``) is a section here, put in place by
:func:`document_layer` or :func:`document_cell` where the docstring has a line ``${name}``.
``${equations}`` is the ``.. math::`` block of the class's ``spec_class`` docstring, so a cell's
equations are written once, on its spec.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["document_cell", "document_layer", "equations", "fill"]

T = TypeVar("T", bound=type)

_LAYER_ARGS = """\
input_size: H_in, the features of each input step.
hidden_size: H, the units of the state of each layer and direction.
num_layers: layers stacked on each other; layer k > 0 reads the output of layer k - 1.
    Default 1.
bias: False leaves out every bias parameter (see Attributes). Default True.
batch_first: True makes ``input`` and ``output`` ``(N, L, *)`` instead of ``(L, N, *)``;
    the states keep ``(D*num_layers, N, *)``. Default False.
dropout: probability of dropout on the output of every layer except the last, in
    training only. Default 0.
bidirectional: True adds a second stack of cells that reads each sequence from its last
    valid step to its first: D = 2 directions (else D = 1). Default False.
device, dtype: where the parameters are created and their dtype (torch's defaults
    if None).
"""

_PATH_ARG = """\
path: keyword-only, like everything below. ``"auto"`` (default) runs torch's fused
    kernel (cuDNN, ATen) when it computes exactly this configuration, and rnnkit's
    explicit step loop otherwise; ``"fast"`` insists on the fused kernel (ValueError
    when it cannot); ``"explicit"`` always runs the step loop. ``last_path`` and
    ``explain()`` say which ran and why.
merge_mode: how the two directions' outputs ``f`` and ``b`` become one: ``"concat"``
    ``[f, b]`` (default, torch.nn's layout), ``"sum"`` ``f + b``, ``"mean"``
    ``(f + b) / 2``, ``"mul"`` ``f * b``, or ``"none"``: the output keeps a direction
    axis, ``(L, N, 2, H_out)``. Layer k > 0 reads the merged output of the layer below
    (``"none"`` concatenates between layers). Anything but ``"concat"`` needs
    ``bidirectional=True``.
input_dropout: variational dropout on every layer's input: one mask per sequence, reused
    at every step (training only). Default 0.
"""

_RECURRENT_REGULARIZERS = """\
recurrent_dropout: variational dropout on :math:`h_{t-1}` where it enters the recurrent
    product :math:`W_{hh} h_{t-1}` (the state itself is kept): one mask per sequence,
    reused at every step (training only). Default 0.
zoneout: probability that a state unit keeps its previous value, drawn afresh at every
    step in training; evaluation uses the expectation ``p * old + (1 - p) * new``. A
    float for every state tensor, or a pair ``(p_h, p_c)`` for cells with a c state.
    Default 0.
weight_drop: DropConnect on ``weight_hh``: one mask of its shape per forward pass,
    shared by every sequence and step (training only). Default 0.
"""

_INPUT_ONLY_REGULARIZERS = """\
recurrent_dropout, weight_drop: must be 0 (ValueError otherwise): there is no recurrent
    product and no ``weight_hh`` to drop.
zoneout: probability that the state unit keeps its previous value, drawn afresh at every
    step in training (the step loop then runs instead of the scan); evaluation uses the
    expectation ``p * old + (1 - p) * new``. Default 0.
"""

_LAYER_ATTRIBUTES = """\
``*_reverse``: the backward direction's parameters, named and shaped alike
    (``weight_ih_l0_reverse``, ...), when ``bidirectional``.
last_path: ``"fast"`` or ``"explicit"``, the path the last forward pass ran (None before
    the first); ``explain()`` says why.
"""

_DIRECTIONS = """\
``h_n`` (and ``c_n``) hold every layer and direction in the order ``l0, l0_reverse, l1, ...``
(``h_n.view(num_layers, D, N, -1)``), each at its own final step. The forward direction ends at
each sequence's last valid step; the backward direction reads the sequence backwards and ends
at the first step. So for sequence n with ``T = lengths[n]`` valid steps (L without lengths):

* one direction: ``h_n[-1, n] == output[T - 1, n]``;
* two directions, merge_mode ``"concat"``: ``h_n[-2, n] == output[T - 1, n, :H_out]`` (the
  forward direction at its last valid step) and ``h_n[-1, n] == output[0, n, H_out:]`` (the
  backward direction, at ``t = 0``).

With ``batch_first`` read ``output[n, t]`` for ``output[t, n]``. ``output[-1]`` is no final
state: its backward half is the backward direction after one step, and for a shorter sequence
it is padding.
"""

_CELL_ARGS = """\
input_size: H_in, the features of the input.
hidden_size: H, the units of the state.
bias: False leaves out every bias parameter (see Attributes). Default True.
device, dtype: where the parameters are created and their dtype (torch's defaults
    if None).
"""


_LAYER_INPUT = """\
Inputs: ``input, hx=None, lengths=None``; ``hx`` is ``{hx}``
    * **input**: ``(L, N, H_in)``, ``(N, L, H_in)`` if ``batch_first``, ``(L, H_in)`` for one
      unbatched sequence, or a :class:`~torch.nn.utils.rnn.PackedSequence`.
"""

_LAYER_STATE_INPUT = """\
    * **{name}_0**: ``(D*num_layers, N, {size})`` (``(D*num_layers, {size})`` unbatched), the
      initial {name} of each layer and direction; zeros when omitted.
"""

_LAYER_OUTPUT = """\
    * **lengths**: ``(N,)`` integers, ``1 <= lengths[n] <= L``: the valid steps of each padded
      sequence (a PackedSequence carries its own). What padded steps hold never changes a
      result.

Outputs: ``output, {finals}``
    * **output**: ``(L, N, D*{h})`` (``(N, L, D*{h})`` if ``batch_first``, ``(L, D*{h})``
      unbatched, packed if the input was): the last layer's :math:`h_t` at every step, the
      directions concatenated ``[forward, backward]``; zero on padded steps.
      ``(L, N, {h})`` for merge_mode sum, mean or mul, ``(L, N, 2, {h})`` for ``"none"``.
"""

_LAYER_STATE_OUTPUT = """\
    * **{name}_n**: ``(D*num_layers, N, {size})``, the final {name} of each layer and direction;
      with lengths, at each sequence's own last valid step.
"""

_CELL_INPUT = """\
Inputs: ``input, hx=None``; ``hx`` is ``{hx}``, the state before the step
    * **input**: ``(N, H_in)``, or ``(H_in,)`` for one unbatched step.
"""

_CELL_STATE_INPUT = """\
    * **{name}**: ``(N, {size})``, or ``({size},)`` unbatched; zeros when omitted.
"""

_CELL_OUTPUT = """\

Outputs: ``{new}``, the state after the step
"""

_CELL_STATE_OUTPUT = """\
    * **{name}'**: ``(N, {size})``, or ``({size},)`` unbatched.
"""


def _tuple(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def _layer_io(states: tuple[str, ...], h_out: str) -> str:
    """The Inputs and Outputs sections of a layer whose state is ``states``."""
    sizes = [h_out if name == "h" else "H" for name in states]
    pairs = list(zip(states, sizes, strict=True))
    return (
        _LAYER_INPUT.format(hx=_tuple([f"{s}_0" for s in states]))
        + "".join(_LAYER_STATE_INPUT.format(name=n, size=s) for n, s in pairs)
        + _LAYER_OUTPUT.format(finals=_tuple([f"{s}_n" for s in states]), h=h_out)
        + "".join(_LAYER_STATE_OUTPUT.format(name=n, size=s) for n, s in pairs)
    )


def _cell_io(states: tuple[str, ...], h_out: str) -> str:
    """The Inputs and Outputs sections of a cell whose state is ``states``."""
    sizes = [h_out if name == "h" else "H" for name in states]
    pairs = list(zip(states, sizes, strict=True))
    return (
        _CELL_INPUT.format(hx=_tuple(list(states)))
        + "".join(_CELL_STATE_INPUT.format(name=n, size=s) for n, s in pairs)
        + _CELL_OUTPUT.format(new=_tuple([f"{s}'" for s in states]))
        + "".join(_CELL_STATE_OUTPUT.format(name=n, size=s) for n, s in pairs)
    )


def _directions(states: tuple[str, ...], h_out: str) -> str:
    text = _DIRECTIONS.replace("H_out", h_out)
    if "c" not in states:
        text = text.replace("``h_n`` (and ``c_n``) hold", "``h_n`` holds")
    return text


def equations(doc: str | None) -> str:
    """The first ``.. math::`` block of ``doc``, dedented ('' when there is none)."""
    lines = (doc or "").splitlines()
    for start, line in enumerate(lines):
        if line.strip() == ".. math::":
            indent = len(line) - len(line.lstrip())
            end = start + 1
            while end < len(lines) and (
                not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
            ):
                end += 1
            return textwrap.dedent("\n".join(lines[start:end])).strip()
    return ""


def fill(doc: str, sections: Mapping[str, str]) -> str:
    """``doc`` with every line ``${name}`` replaced by ``sections[name]``, at that line's indent.

    A name without a section raises KeyError, so a misspelt placeholder fails at import.
    """
    out = []
    for line in doc.splitlines():
        key = line.strip()
        if key.startswith("${") and key.endswith("}"):
            indent = line[: len(line) - len(line.lstrip())]
            text = textwrap.dedent(sections[key[2:-1]]).strip("\n")
            out.extend(indent + part if part.strip() else "" for part in text.splitlines())
        else:
            out.append(line)
    return "\n".join(out)


def _equations_of(cls: type) -> str:
    spec = getattr(cls, "spec_class", None)
    return equations(spec.__doc__) if spec is not None else ""


def document_layer(
    states: tuple[str, ...] = ("h",),
    h_out: str = "H",
    recurrent: bool = True,
    **sections: str,
) -> Callable[[T], T]:
    """Class decorator: fill a layer's docstring with the shared layer sections.

    Args:
        states: the cell's state names, ``("h",)`` or ``("h", "c")``.
        h_out: the symbol of the output size (``"H_out"`` for the LSTM, whose ``proj_size``
            changes it).
        recurrent: False for cells without a recurrent product (the minimal cells), which take
            neither ``recurrent_dropout`` nor ``weight_drop``.
        sections: further sections by placeholder name, shared by a family of layers and cells.
    """

    def decorate(cls: T) -> T:
        regularizers = _RECURRENT_REGULARIZERS if recurrent else _INPUT_ONLY_REGULARIZERS
        cls.__doc__ = fill(cls.__doc__ or "", {
            "equations": _equations_of(cls),
            "layer_args": _LAYER_ARGS,
            "keyword_args": (_PATH_ARG + regularizers).replace("H_out", h_out),
            "inputs_outputs": _layer_io(states, h_out),
            "directions": _directions(states, h_out),
            "layer_attributes": _LAYER_ATTRIBUTES,
            **sections,
        })
        return cls

    return decorate


def document_cell(
    states: tuple[str, ...] = ("h",), h_out: str = "H", **sections: str
) -> Callable[[T], T]:
    """Class decorator: fill a cell's docstring with the shared cell sections (and ``sections``,
    as :func:`document_layer` does)."""

    def decorate(cls: T) -> T:
        cls.__doc__ = fill(cls.__doc__ or "", {
            "equations": _equations_of(cls),
            "cell_args": _CELL_ARGS,
            "inputs_outputs": _cell_io(states, h_out),
            **sections,
        })
        return cls

    return decorate
