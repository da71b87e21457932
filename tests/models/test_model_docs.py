"""The models' docstring examples run and say what they claim."""

import doctest

import pytest

from rnnkit.models import classifier, crf, encoder, language_model, tagger, token_features


@pytest.mark.parametrize("module", [classifier, encoder, crf, language_model, tagger,
                                    token_features])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, raise_on_error=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
