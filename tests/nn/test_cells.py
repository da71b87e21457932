"""rnnkit.nn cells against torch.nn cells, and a hand-driven cell loop against the layer."""

import pytest
import torch

import rnnkit.nn

CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name,options", CELLS)
def test_cell_matches_torch_cell(name, options, bias):
    torch.manual_seed(3)
    ref = getattr(torch.nn, name)(4, 6, bias=bias, dtype=torch.float64, **options)
    torch.manual_seed(3)
    ours = getattr(rnnkit.nn, name)(4, 6, bias=bias, dtype=torch.float64, **options)
    assert [n for n, _ in ref.named_parameters()] == [n for n, _ in ours.named_parameters()]
    for p, q in zip(ref.parameters(), ours.parameters(), strict=True):
        assert torch.equal(p, q)
    for batched in (True, False):
        x = torch.randn((5, 4) if batched else (4,), dtype=torch.float64)
        shape = (5, 6) if batched else (6,)
        hx = torch.randn(shape, dtype=torch.float64)
        if name == "LSTMCell":
            hx = (hx, torch.randn(shape, dtype=torch.float64))
        for state in (None, hx):
            expected, got = ref(x, state), ours(x, state)
            expected = expected if isinstance(expected, tuple) else (expected,)
            got = got if isinstance(got, tuple) else (got,)
            for a, b in zip(got, expected, strict=True):
                torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name,options", CELLS)
def test_state_dict_loads_both_ways(name, options):
    ref = getattr(torch.nn, name)(4, 6, **options)
    ours = getattr(rnnkit.nn, name)(4, 6, **options)
    ours.load_state_dict(ref.state_dict())
    ref2 = getattr(torch.nn, name)(4, 6, **options)
    ref2.load_state_dict(ours.state_dict())
    for p, q in zip(ref.parameters(), ref2.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("cell_name,layer_name", [("RNNCell", "RNN"), ("LSTMCell", "LSTM"),
                                                  ("GRUCell", "GRU")])
def test_hand_driven_cell_loop_equals_layer(cell_name, layer_name):
    layer = getattr(rnnkit.nn, layer_name)(3, 5, num_layers=2, dtype=torch.float64)
    cells = [getattr(rnnkit.nn, cell_name)(3 if k == 0 else 5, 5, dtype=torch.float64)
             for k in range(2)]
    for k, cell in enumerate(cells):
        cell.load_state_dict({n.rsplit("_l", 1)[0]: p for n, p in layer.named_parameters()
                              if n.endswith(f"_l{k}")})
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    expected_out, expected_state = layer(x)
    states = [None, None]
    outputs = []
    for t in range(x.shape[0]):
        inp = x[t]
        for k, cell in enumerate(cells):
            states[k] = cell(inp, states[k])
            inp = states[k][0] if isinstance(states[k], tuple) else states[k]
        outputs.append(inp)
    torch.testing.assert_close(torch.stack(outputs), expected_out, atol=1e-12, rtol=0)
    h_n = expected_state[0] if isinstance(expected_state, tuple) else expected_state
    last_h = torch.stack([s[0] if isinstance(s, tuple) else s for s in states])
    torch.testing.assert_close(last_h, h_n, atol=1e-12, rtol=0)


def test_cell_errors_name_expected_and_found():
    cell = rnnkit.nn.LSTMCell(4, 6)
    with pytest.raises(ValueError, match=r"4 features.*\(5, 3\)"):
        cell(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"expected h of shape \(5, 6\), found \(5, 7\)"):
        cell(torch.randn(5, 4), (torch.randn(5, 7), torch.randn(5, 6)))
    with pytest.raises(ValueError, match="2 tensor"):
        cell(torch.randn(5, 4), torch.randn(5, 6))
    with pytest.raises(ValueError, match="float64"):
        cell(torch.randn(5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="nonlinearity"):
        rnnkit.nn.RNNCell(4, 6, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        rnnkit.nn.GRUCell(4, 0)
