"""The models' docstring examples run and say what they claim."""

import doctest

import pytest

from rnnkit.models import classifier, encoder


@pytest.mark.parametrize("module", [classifier, encoder])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, raise_on_error=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
