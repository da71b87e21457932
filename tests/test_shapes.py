"""rnnkit shapes: the printed shapes are the real ones, and the reading hints hold."""

import argparse

import pytest
import torch

import rnnkit.nn
from rnnkit import shapes


def report(argv: str) -> str:
    parser = argparse.ArgumentParser()
    shapes.add_arguments(parser)
    args = parser.parse_args(argv.split())
    layer = shapes.layer_classes()[args.cell](
        args.input_size, args.hidden_size, num_layers=args.num_layers,
        bidirectional=args.bidirectional, batch_first=args.batch_first, device="meta",
        path="explicit", **({"proj_size": args.proj_size} if args.proj_size else {}),
    )
    return shapes.shapes_report(layer, args.batch, args.seq_len, args.unbatched)


def test_issue_example_lists_parameters_and_tensor_shapes():
    text = report("--cell lstm --input-size 28 --hidden-size 128 --num-layers 2 --bidirectional "
                  "--batch-first --batch 100 --seq-len 28")
    real = torch.nn.LSTM(28, 128, 2, batch_first=True, bidirectional=True)
    for name, param in real.named_parameters():
        assert f"{name} " in text and str(tuple(param.shape)) in text
    assert f"total: {sum(p.numel() for p in real.parameters()):,} parameters" in text
    assert "output  (100, 28, 256)" in text
    assert "h_n     (4, 100, 128)" in text and "c_n     (4, 100, 128)" in text


def test_projection_shapes():
    text = report("--cell lstm --hidden-size 16 --proj-size 4 --batch 3 --seq-len 5")
    assert "weight_hr_l0  (4, 16)" in text
    assert "h_n     (1, 3, 4)" in text and "c_n     (1, 3, 16)" in text


@pytest.mark.parametrize("batch_first", [False, True])
def test_reading_hints_are_true(batch_first):
    lstm = rnnkit.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = torch.randn((2, 7, 3) if batch_first else (7, 2, 3))
    out, (h_n, _) = lstm(x)
    text = shapes.shapes_report(lstm, 2, 7)
    namespace = {"output": out, "h_n": h_n}
    hints = [line.split("==") for line in text.splitlines() if "==" in line]
    assert len(hints) == 2
    for left, right in hints:
        torch.testing.assert_close(eval(left.strip(), namespace),
                                   eval(right.split()[0], namespace))


def test_cli_prints_the_report(capsys):
    from rnnkit.cli import main

    assert main(["shapes", "--cell", "gru", "--input-size", "4", "--hidden-size", "8"]) == 0
    assert "weight_hh_l0  (24, 8)" in capsys.readouterr().out
