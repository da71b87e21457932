"""The public layers' and cells' docstrings: complete, runnable, and true to the modules."""

import doctest
import re

import pytest
import torch

import rnnkit.nn
from rnnkit.nn import RecurrentCell, RecurrentLayer

PUBLIC = [getattr(rnnkit.nn, name) for name in rnnkit.nn.__all__]
MODULES = [
    obj for obj in PUBLIC
    if isinstance(obj, type) and issubclass(obj, RecurrentLayer | RecurrentCell)
]
CONCRETE = [cls for cls in MODULES if "spec_class" in vars(cls)]
LAYERS = [cls for cls in CONCRETE if issubclass(cls, RecurrentLayer)]
CELLS = [cls for cls in CONCRETE if issubclass(cls, RecurrentCell)]
SECTIONS = ("Args:", "Inputs:", "Outputs:", "Attributes:", "Example::")


def test_every_layer_and_cell_is_checked():
    names = {cls.__name__ for cls in MODULES}
    assert {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RecurrentLayer",
            "RecurrentCell"} <= names
    assert set(rnnkit.nn.LAYERS.values()) <= set(LAYERS)
    assert len(CELLS) == len(LAYERS)  # one cell per layer


@pytest.mark.parametrize("cls", MODULES, ids=lambda cls: cls.__name__)
def test_docstring_has_every_section(cls):
    doc = cls.__doc__ or ""
    for section in SECTIONS:
        assert section in doc, f"{cls.__name__}'s docstring has no {section!r}"
    assert "${" not in doc, "a shared section was not filled in"
    if cls in CONCRETE:
        assert ".. math::" in doc, f"{cls.__name__}'s docstring has no equations"


@pytest.mark.parametrize("cls", MODULES, ids=lambda cls: cls.__name__)
def test_docstring_example_runs(cls):
    torch.manual_seed(0)
    (test,) = doctest.DocTestFinder(recurse=False).find(cls, cls.__name__, globs={})
    assert test.examples, f"{cls.__name__}'s Example has no >>> lines"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=lambda text: pytest.fail(text))
    assert result.failed == 0


def test_length_mask_example_runs():
    (test,) = doctest.DocTestFinder().find(
        rnnkit.nn.length_mask, "length_mask", globs={"torch": torch,
                                                     "length_mask": rnnkit.nn.length_mask}
    )
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    assert runner.run(test, out=lambda text: pytest.fail(text)).failed == 0


def attributes_section(cls) -> str:
    doc = cls.__doc__
    return doc[doc.index("Attributes:"):doc.index("Example::")]


def options(cls) -> dict:
    """The options that create every parameter the class can have (LSTM's projection)."""
    return {"proj_size": 2} if cls.spec_class is rnnkit.nn.LSTMSpec else {}


@pytest.mark.parametrize("cls", LAYERS, ids=lambda cls: cls.__name__)
def test_layer_attributes_name_every_parameter(cls):
    layer = cls(3, 4, num_layers=2, bidirectional=True, **options(cls))
    documented = attributes_section(cls)
    assert "_reverse" in documented
    for name, _ in layer.named_parameters():
        base = re.sub(r"_l\d+(_reverse)?$", "", name)
        assert f"{base}_l[k]" in documented, f"{cls.__name__}: {name} is not documented"


@pytest.mark.parametrize("cls", CELLS, ids=lambda cls: cls.__name__)
def test_cell_attributes_name_every_parameter(cls):
    cell = cls(3, 4, **options(cls))
    documented = attributes_section(cls)
    for name, _ in cell.named_parameters():
        assert re.search(rf"\b{name}\b", documented), f"{cls.__name__}: {name} is not documented"


@pytest.mark.parametrize("path", ["fast", "explicit"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("proj_size", [0, 3])
def test_h_n_relation_to_output_stated_in_the_docstring(path, batch_first, proj_size):
    """As LSTM's docstring says: h_n[-2, n] == output[T - 1, n, :H_out] (forward) and
    h_n[-1, n] == output[0, n, H_out:] (backward)."""
    torch.manual_seed(0)
    hidden, h_out = 5, proj_size or 5
    lstm = rnnkit.nn.LSTM(4, hidden, num_layers=2, bidirectional=True, proj_size=proj_size,
                          batch_first=batch_first, path=path, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4, 1])
    x = torch.randn(4, 6, 4, dtype=torch.float64)  # (N, L, H_in)
    output, (h_n, c_n) = lstm(x if batch_first else x.transpose(0, 1), lengths=lengths)
    assert lstm.last_path == path
    out = output if batch_first else output.transpose(0, 1)  # (N, L, 2*H_out)
    for n, steps in enumerate(lengths.tolist()):
        torch.testing.assert_close(h_n[-2, n], out[n, steps - 1, :h_out])
        torch.testing.assert_close(h_n[-1, n], out[n, 0, h_out:])
        # not the last padded row: that is padding for the shorter sequences
        if steps < x.shape[1]:
            assert torch.all(out[n, -1] == 0)
    assert c_n.shape == (4, 4, hidden)


@pytest.mark.parametrize("path", ["fast", "explicit"])
def test_h_n_relation_to_output_one_direction(path):
    """One direction: h_n[-1, n] == output[T - 1, n]."""
    torch.manual_seed(0)
    gru = rnnkit.nn.GRU(4, 5, num_layers=2, path=path, dtype=torch.float64)
    lengths = torch.tensor([3, 6, 1])
    output, h_n = gru(torch.randn(6, 3, 4, dtype=torch.float64), lengths=lengths)
    for n, steps in enumerate(lengths.tolist()):
        torch.testing.assert_close(h_n[-1, n], output[steps - 1, n])
