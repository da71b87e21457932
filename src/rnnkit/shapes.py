"""``rnnkit shapes``: every parameter and tensor shape of a recurrent layer, without a calculator.

The layer is built on PyTorch's ``meta`` device and run on the explicit path there, so the shapes
printed are the ones the real layer produces, for any size, with no memory and no computation.
"""

from __future__ import annotations

import argparse

import torch

import rnnkit.nn
from rnnkit.nn import RecurrentLayer

__all__ = ["add_arguments", "layer_classes", "run", "shapes_report"]


def layer_classes() -> dict[str, type[RecurrentLayer]]:
    """Every layer in rnnkit.nn by the name configs use (``lstm``, ``layernorm_lstm``, ...)."""
    return rnnkit.nn.LAYERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cell", default="lstm", choices=sorted(layer_classes()),
                        help="layer type (default: lstm)")
    parser.add_argument("--input-size", type=int, default=28, help="F, features per step")
    parser.add_argument("--hidden-size", type=int, default=128, help="H, units per direction")
    parser.add_argument("--num-layers", type=int, default=1)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--batch-first", action="store_true")
    parser.add_argument("--no-bias", action="store_true")
    parser.add_argument("--proj-size", type=int, default=0, help="P, LSTM projection size")
    parser.add_argument("--batch", type=int, default=100, help="N, sequences per batch")
    parser.add_argument("--seq-len", type=int, default=28, help="L, steps per sequence")
    parser.add_argument("--unbatched", action="store_true", help="input (L, F) without a batch")


def run(args: argparse.Namespace) -> int:
    for flag in ("input_size", "hidden_size", "num_layers", "batch", "seq_len"):
        value = getattr(args, flag)
        if value < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    if not 0 <= args.proj_size < args.hidden_size:
        raise ValueError(f"--proj-size must be in [0, --hidden-size), got {args.proj_size}")
    options = {}
    if args.proj_size:
        if args.cell != "lstm":
            raise ValueError(f"--proj-size exists only for lstm, not {args.cell}")
        options["proj_size"] = args.proj_size
    layer = layer_classes()[args.cell](
        args.input_size, args.hidden_size, num_layers=args.num_layers, bias=not args.no_bias,
        batch_first=args.batch_first, bidirectional=args.bidirectional, device="meta",
        path="explicit", **options,
    )
    print(shapes_report(layer, args.batch, args.seq_len, unbatched=args.unbatched))
    return 0


def _symbol(spec, base: str, layer_index: int) -> str:
    """The shape formula of a classic cell's parameter ('' for other cells' own layouts)."""
    if spec.fused_mode is None:
        return ""
    gates = spec.num_gates
    rows = "H" if gates == 1 else f"{gates}H"
    return {
        "weight_ih": f"({rows}, {'F' if layer_index == 0 else 'D*H_out'})",
        "weight_hh": f"({rows}, H_out)",
        "bias_ih": f"({rows},)",
        "bias_hh": f"({rows},)",
        "weight_hr": "(P, H)",
    }.get(base, "")


def shapes_report(layer: RecurrentLayer, batch: int, seq_len: int, unbatched: bool = False) -> str:
    """A table of the layer's parameters and of its input, output and state shapes."""
    spec = layer.specs[0]
    d = layer.num_directions
    lines = [repr(layer).replace(", path='explicit'", ""), ""]
    lines.append(
        f"F={layer.input_size}  H={layer.hidden_size}  H_out={spec.output_size}  D={d}  "
        f"num_layers={layer.num_layers}  N={batch}  L={seq_len}  "
        f"gates per unit G={spec.num_gates}"
    )
    lines += ["", "parameters"]
    width = max(len(name) for name, _ in layer.named_parameters())
    total = 0
    for layer_index in range(layer.num_layers):
        for direction in range(d):
            for base, param in layer.cell_parameters(layer_index, direction).items():
                full = layer._layer_names[layer_index][direction][base]
                total += param.numel()
                shape = str(tuple(param.shape))
                symbol = _symbol(spec, base, layer_index)
                lines.append(f"  {full:<{width}}  {shape:<14} {symbol}")
    lines.append(f"  total: {total:,} parameters")

    reference = layer._flat_weights[0]
    if unbatched:
        shape: tuple[int, ...] = (seq_len,)
        layout, state_layout = "(L, F)", "(D*num_layers, {})"
    else:
        shape = (batch, seq_len) if layer.batch_first else (seq_len, batch)
        layout = "(N, L, F)" if layer.batch_first else "(L, N, F)"
        state_layout = "(D*num_layers, N, {})"
    x = torch.zeros(*shape, layer.input_size, device=reference.device, dtype=reference.dtype)
    with torch.no_grad():
        output, state = layer(x)
    states = state if isinstance(state, tuple) else (state,)
    out_layout = layout.replace("F", "D*H_out")
    lines += ["", "tensors"]
    lines.append(f"  {'input':<8}{str(tuple(x.shape)):<18}{layout}")
    lines.append(f"  {'output':<8}{str(tuple(output.shape)):<18}{out_layout}")
    for index, (name, tensor) in enumerate(zip(spec.state_names, states, strict=True)):
        layout_n = state_layout.format("H_out" if index == 0 else "H")
        lines.append(f"  {name + '_n':<8}{str(tuple(tensor.shape)):<18}{layout_n}")

    h_out = spec.output_size
    if unbatched:
        at = "output[{t}, {f}]"
    elif layer.batch_first:
        at = "output[:, {t}, {f}]"
    else:
        at = "output[{t}, :, {f}]"
    lines += ["", "reading them (without lengths= or packing)"]
    if d == 1:
        lines.append(f"  {at.format(t=-1, f=':')} == h_n[-1], the last layer's final state")
    else:
        lines.append(f"  {at.format(t=-1, f=f':{h_out}')} == h_n[-2]  forward direction, last step")
        lines.append(f"  {at.format(t=0, f=f'{h_out}:')} == h_n[-1]  backward direction, last "
                     "step (it ends at position 0)")
        lines.append(f"  {at.format(t=-1, f=':')} is NOT a summary of the sequence: its "
                     "backward half has seen one step")
    return "\n".join(lines)
