"""rnnkit.nn layers: construction, initialisation, state_dicts, paths, streaming and errors."""

import pytest
import torch

import rnnkit.nn

LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("LSTM", {"proj_size": 3}),
          ("GRU", {})]


@pytest.mark.parametrize("name,options", LAYERS)
def test_same_seed_gives_identical_parameters(name, options):
    kwargs = dict(num_layers=3, bidirectional=True, **options)
    torch.manual_seed(11)
    ref = getattr(torch.nn, name)(5, 7, **kwargs)
    torch.manual_seed(11)
    ours = getattr(rnnkit.nn, name)(5, 7, **kwargs)
    ref_params, our_params = dict(ref.named_parameters()), dict(ours.named_parameters())
    assert list(ref_params) == list(our_params)
    for key, value in ref_params.items():
        assert torch.equal(value, our_params[key]), key
    # both consumed exactly the same random numbers
    torch.manual_seed(11)
    getattr(torch.nn, name)(5, 7, **kwargs)
    after_ref = torch.rand(4)
    torch.manual_seed(11)
    getattr(rnnkit.nn, name)(5, 7, **kwargs)
    assert torch.equal(torch.rand(4), after_ref)


@pytest.mark.parametrize("name,options", LAYERS)
def test_state_dict_loads_both_ways(name, options):
    ref = getattr(torch.nn, name)(5, 7, num_layers=2, bidirectional=True, **options)
    ours = getattr(rnnkit.nn, name)(5, 7, num_layers=2, bidirectional=True, **options)
    ours.load_state_dict(ref.state_dict())
    back = getattr(torch.nn, name)(5, 7, num_layers=2, bidirectional=True, **options)
    back.load_state_dict(ours.state_dict())
    x = torch.randn(4, 2, 5)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])
    torch.testing.assert_close(back(x)[0], ref(x)[0])


def test_paths_are_reported_and_forced():
    lstm = rnnkit.nn.LSTM(3, 4)
    assert "fast path" in lstm.explain()
    lstm(torch.randn(5, 2, 3))
    assert lstm.last_path == "fast" and "fused LSTM kernel" in lstm.explain()
    lstm.path = "explicit"
    lstm(torch.randn(5, 2, 3))
    assert lstm.last_path == "explicit" and "requested" in lstm.explain()
    with pytest.raises(ValueError, match="path must be"):
        lstm.path = "cudnn"


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("path", ["fast", "explicit"])
def test_streaming_one_step_at_a_time_equals_whole_sequence(name, path):
    layer = getattr(rnnkit.nn, name)(3, 5, num_layers=2, batch_first=True, dtype=torch.float64,
                                     path=path)
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    whole, whole_state = layer(x)
    state, steps = None, []
    for t in range(x.shape[1]):
        out, state = layer(x[:, t : t + 1], state)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole, atol=1e-12, rtol=0)
    for a, b in zip(state if isinstance(state, tuple) else (state,),
                    whole_state if isinstance(whole_state, tuple) else (whole_state,), strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("path", ["fast", "explicit"])
def test_dropout_between_layers_only_in_training(path):
    torch.manual_seed(0)
    layer = rnnkit.nn.GRU(3, 16, num_layers=2, dropout=0.5, path=path)
    x = torch.randn(6, 4, 3)
    layer.eval()
    assert torch.equal(layer(x)[0], layer(x)[0])
    no_dropout = rnnkit.nn.GRU(3, 16, num_layers=2, path=path)
    no_dropout.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer(x)[0], no_dropout(x)[0])
    layer.train()
    assert not torch.allclose(layer(x)[0], no_dropout(x)[0])


@pytest.mark.parametrize("path", ["fast", "explicit"])
def test_lengths_give_zero_padding_and_last_valid_state(path):
    torch.manual_seed(0)
    lstm = rnnkit.nn.LSTM(3, 4, bidirectional=True, batch_first=True, dtype=torch.float64,
                          path=path)
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    out, (h_n, _) = lstm(x, lengths=lengths)
    for i, n in enumerate(lengths.tolist()):
        alone, (h_alone, _) = lstm(x[i : i + 1, :n])
        torch.testing.assert_close(out[i, :n], alone[0], atol=1e-12, rtol=0)
        assert torch.all(out[i, n:] == 0)
        torch.testing.assert_close(h_n[:, i], h_alone[:, 0], atol=1e-12, rtol=0)


def test_constructor_errors():
    cases = [
        (dict(hidden_size=0), "hidden_size"),
        (dict(dropout=1.5), r"dropout must be a number in \[0, 1\]"),
        (dict(dropout=-0.1), "dropout"),
        (dict(num_layers=0), "num_layers"),
        (dict(proj_size=8), "proj_size must be smaller than hidden_size"),
        (dict(proj_size=-1), "proj_size"),
    ]
    for kwargs, message in cases:
        args = dict(input_size=3, hidden_size=8) | kwargs
        with pytest.raises(ValueError, match=message):
            rnnkit.nn.LSTM(**args)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnnkit.nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="path"):
        rnnkit.nn.GRU(3, 4, path="gpu")


@pytest.mark.parametrize("path", ["fast", "explicit"])
def test_forward_errors_name_expected_and_found(path):
    lstm = rnnkit.nn.LSTM(3, 4, num_layers=2, batch_first=True, path=path)
    x = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match=r"\(N, L, H_in\).*found \(2, 5, 3, 1\)"):
        lstm(x.unsqueeze(-1))
    with pytest.raises(ValueError, match=r"3 features.*found shape \(2, 5, 7\)"):
        lstm(torch.randn(2, 5, 7))
    with pytest.raises(ValueError,
                       match=r"expected initial h of shape \(2, 2, 4\).*found \(1, 2, 4\)"):
        lstm(x, (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match="2 tensor"):
        lstm(x, torch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="expected dtype torch.float32.*found torch.float64"):
        lstm(x.double())
    with pytest.raises(ValueError, match="expected dtype"):
        lstm(x, (torch.zeros(2, 2, 4, dtype=torch.float64), torch.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"lengths between 1 and the sequence length 5.*to 6"):
        lstm(x, lengths=torch.tensor([6, 2]))
    with pytest.raises(ValueError, match="from 0"):
        lstm(x, lengths=torch.tensor([0, 2]))
    with pytest.raises(ValueError, match=r"lengths of shape \(2,\), found \(3,\)"):
        lstm(x, lengths=torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="integer lengths"):
        lstm(x, lengths=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="unbatched"):
        lstm(x[0], lengths=torch.tensor([2]))


def test_device_mismatch_is_a_clear_error():
    lstm = rnnkit.nn.LSTM(3, 4).to("meta")
    with pytest.raises(ValueError, match="expected a tensor on meta"):
        lstm(torch.randn(5, 2, 3))
