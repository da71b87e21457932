"""The corpus source: one long text as a token stream, for the lm family."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.corpus.config import CorpusConfig
from rnnkit.data.corpus.datamodule import CorpusDataModule
from rnnkit.data.source import DataSource, PredictInputs

__all__ = ["SOURCE", "CorpusSource"]


class CorpusSource(DataSource):
    name = "corpus"

    def datamodule(
        self, config: CorpusConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> CorpusDataModule:
        if purpose == "evaluate" and config.test is None and config.val is None \
                and not Path(str(config.train)).is_file():
            raise ConfigError(f"this run has no test file and its training text {config.train} "
                              "(for the validation part) is gone; pass a test file with "
                              "--test FILE")
        return CorpusDataModule(config, seed=seed, purpose=purpose, state=state,
                                predict=predict)


SOURCE = CorpusSource()
