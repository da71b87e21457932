"""The pairs source: source/target text pairs, for the seq2seq family."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.pairs.config import PairsConfig
from rnnkit.data.pairs.datamodule import PairsDataModule
from rnnkit.data.source import DataSource, PredictInputs

__all__ = ["SOURCE", "PairsSource"]


class PairsSource(DataSource):
    name = "pairs"

    def datamodule(
        self, config: PairsConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> PairsDataModule:
        if family not in ("auto", "seq2seq"):
            raise ValueError(f"data.name=pairs gives a target text for every source text: it "
                             f"trains the seq2seq family (task seq2seq or auto), not {family}")
        if predict is not None and predict.files:
            raise ValueError("this model reads source texts; image files are for MNIST "
                             "models: pass --text TEXT or --data FILE")
        if predict is not None and not (predict.data or predict.texts):
            raise ValueError("give the sources to predict: --text TEXT or --data FILE")
        if purpose == "evaluate" and config.test is None:
            gone = [p for p in (config.train, config.train_target)
                    if p is not None and not Path(p).exists()]
            if gone:
                raise ConfigError(f"this run has no test file and its training pairs {gone[0]} "
                                  "(for the test or validation split) are gone; pass a test "
                                  "file with --test FILE")
        return PairsDataModule(config, seed=seed, purpose=purpose, state=state,
                               predict=predict)


SOURCE = PairsSource()
