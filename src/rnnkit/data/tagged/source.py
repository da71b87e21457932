"""The tagged source: sentences with a tag on every token, for the tag family."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.source import DataSource, PredictInputs
from rnnkit.data.tagged.config import TaggedConfig
from rnnkit.data.tagged.datamodule import TaggedDataModule

__all__ = ["SOURCE", "TaggedSource"]


class TaggedSource(DataSource):
    name = "tagged"

    def datamodule(
        self, config: TaggedConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> TaggedDataModule:
        if family not in ("auto", "tag"):
            raise ValueError(f"data.name=tagged gives a tag for every token: it trains the tag "
                             f"family (task tag or auto), not {family}")
        if predict is not None and predict.files:
            raise ValueError("this model tags sentences; image files are for MNIST models: "
                             "pass --text TEXT or --data FILE")
        if predict is not None and not (predict.data or predict.texts):
            raise ValueError("give the sentences to tag: --text TEXT or --data FILE")
        if purpose == "evaluate" and config.test is None and config.train is not None \
                and not Path(config.train).exists():
            raise ConfigError(f"this run has no test file and its training sentences "
                              f"{config.train} (for the test or validation split) are gone; "
                              "pass a test file with --test FILE")
        return TaggedDataModule(config, seed=seed, purpose=purpose, state=state,
                                predict=predict)


SOURCE = TaggedSource()
