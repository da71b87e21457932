"""The mnist source: MNIST digits as sequences, for the classify family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

from rnnkit.data.info import DataInfo
from rnnkit.data.mnist.config import MnistConfig
from rnnkit.data.mnist.datamodule import MNISTDataModule
from rnnkit.data.mnist.images import load_images
from rnnkit.data.source import DataSource, PredictData, PredictInputs, SourceDataModule

__all__ = ["SOURCE", "MnistSource", "MnistSourceModule"]


class MnistSourceModule(MNISTDataModule, SourceDataModule):
    """:class:`~rnnkit.data.mnist.datamodule.MNISTDataModule` with the source interface;
    ``predict`` images are read from ``predict_files`` (IDX, ``.npy`` or pictures)."""

    def __init__(self, *args: Any, predict: PredictInputs | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.predict = predict or PredictInputs()

    def describe(self) -> DataInfo:
        train = len(self.train_set) if self.train_set is not None else 0
        return DataInfo(source="mnist", input_size=self.input_size,
                        class_names=tuple(self.class_names), max_length=self.seq_len,
                        num_train=train)

    def report_split(self) -> tuple[str, Any, int]:
        self.setup("test")
        assert self.test_set is not None
        return "test", self.test_dataloader(), len(self.test_set)

    def predict_data(self, batch_size: int = 256) -> PredictData:
        keys: list[str] = []
        images = []
        for file in self.predict.files:
            x = load_images(file, invert=self.predict.invert)  # (n, 28, 28) uint8
            keys += [f"{file}[{i}]" for i in range(len(x))] if len(x) > 1 else [str(file)]
            images.append(self.transform(x))  # (n, L, F)
        x = torch.cat(images) if images else torch.empty(0, self.seq_len, self.input_size)
        loader = DataLoader(TensorDataset(x), batch_size=batch_size)
        return PredictData(loader, {"image": keys})


class MnistSource(DataSource):
    name = "mnist"

    def datamodule(
        self, config: MnistConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> MnistSourceModule:
        if predict is not None and (predict.data or predict.texts):
            raise ValueError(f"this model reads MNIST images; {predict.given()} is for models "
                             "trained on sequence files or text: pass image files")
        return MnistSourceModule(
            config.source,
            download=config.download,
            view=config.view,
            batch_size=int(config.batch_size),
            val_size=config.val_size,
            seed=seed,
            num_workers=config.num_workers,
            normalize=config.normalize == "feature",
            perm_seed=config.perm_seed,
            predict=predict,
        )


SOURCE = MnistSource()
