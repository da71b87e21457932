"""The text source: labelled texts, for the classify and regress families."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.source import LABEL_TASKS, DataSource, PredictInputs
from rnnkit.data.text.config import TextConfig
from rnnkit.data.text.datamodule import TextDataModule
from rnnkit.data.text.readers import class_file_entries

__all__ = ["SOURCE", "TextSource"]

class TextSource(DataSource):
    name = "text"

    def datamodule(
        self, config: TextConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> TextDataModule:
        if predict is not None and predict.files:
            raise ValueError("this model reads texts; image files are for MNIST models: pass "
                             "--text TEXT or --data FILE")
        if predict is not None and not (predict.data or predict.texts):
            raise ValueError("give the texts to predict: --text TEXT or --data FILE")
        if purpose == "evaluate" and config.test is None:
            paths = [config.train] if config.train else \
                [path for _, path in class_file_entries(config.class_files or [])]
            gone = [p for p in paths if not Path(str(p)).exists()]
            if gone:
                raise ConfigError(f"this run has no test file and its training texts {gone[0]} "
                                  "(for the test or validation split) are gone; pass a test "
                                  "file with --test FILE")
        return TextDataModule(config, seed=seed, task=LABEL_TASKS.get(family, "auto"),
                              purpose=purpose, state=state, predict=predict)


SOURCE = TextSource()
