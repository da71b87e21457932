"""The files source: the user's labelled sequence files, for the classify and regress families,
and for the tag family when the files hold a label per step.

A checkpoint carries what reading new files needs in its data description's ``state`` (task,
class and feature names, the standardizer's mean and std as plain lists, the validation split
and the files' digests), so new files are predicted from the checkpoint alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from rnnkit.config import ConfigError
from rnnkit.data.choices import target_statistics
from rnnkit.data.info import DataInfo
from rnnkit.data.sequences.config import FilesConfig
from rnnkit.data.sequences.datamodule import SequenceDataModule
from rnnkit.data.source import LABEL_TASKS, DataSource, PredictData, PredictInputs, SourceDataModule

__all__ = ["SOURCE", "FilesSource", "FilesSourceModule"]

class FilesSourceModule(SequenceDataModule, SourceDataModule):
    """:class:`~rnnkit.data.sequences.datamodule.SequenceDataModule` with the source
    interface."""

    def resolved(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "val_fraction": float(self.val_fraction),
                "normalize": self.normalize}

    def describe(self) -> DataInfo:
        train = self.dataset("train")
        mean, std = target_statistics(train.targets) if self.task == "regression" \
            else (0.0, 1.0)
        return DataInfo(
            source="files", input_size=self.input_size,
            class_names=tuple(self.class_names or ()) if self.task == "classification" else (),
            target_mean=mean, target_std=std, max_length=int(train.lengths.max()),
            num_train=len(train), step_labels=self.step_labels, state=self.state_dict(),
        )

    def has_validation(self) -> bool:
        return self.has_split("val")

    def report_split(self) -> tuple[str, Any, int]:
        if self.test_path is not None:
            return "test", self.test_dataloader(), len(self.dataset("test"))
        if not self.has_split("val"):
            raise ValueError("this run has no validation split and no test file: nothing to "
                             "report a figure on; give a test file with --test FILE")
        return "val", self.val_dataloader(), len(self.dataset("val"))

    def check_resume(self, state: Mapping[str, Any]) -> None:
        before = state.get("test_sha256")
        if before is not None and self.test_digest is not None and before != self.test_digest:
            raise ValueError(f"{self.test_path} changed since the run started (its SHA-256 "
                             "differs from the checkpoint's); restore it to resume, or "
                             "evaluate the run on the new file with rnnkit evaluate RUN "
                             "--test FILE")

    def predict_data(self, batch_size: int = 256) -> PredictData:
        """The file to predict, in order. With labels per step its ``format`` is ``"steps"``:
        the keys (``index``, ``id``) are per sequence, ``label`` a list per sequence of the
        file's labels, one per step."""
        ds = self.dataset("predict")
        loader = DataLoader(ds, batch_size=batch_size, collate_fn=self.collate)
        keys: dict[str, list[Any]] = {"index": list(range(len(ds)))}
        if ds.ids is not None:
            keys["id"] = list(ds.ids)
        labels: dict[str, list[Any]] = {}
        names = ds.class_names or []
        if ds.targets is not None and self.step_labels:
            labels["label"] = [[names[int(k)] for k in t] for t in ds.targets]
        elif ds.targets is not None:
            if self.task == "classification":
                labels["label"] = [names[int(t)] for t in ds.targets]
            else:
                labels["target"] = [float(t) for t in ds.targets]
        return PredictData(loader, keys, labels, format="steps" if self.step_labels else "")


class FilesSource(DataSource):
    name = "files"

    def datamodule(
        self, config: FilesConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> FilesSourceModule:
        """``purpose``: ``"train"`` reads data.train (and val, test); ``"evaluate"`` reads the
        test file, or without one data.train for the validation split ``state`` fixes;
        ``"predict"`` reads only ``predict.data``."""
        if predict is not None and (predict.files or predict.texts):
            raise ValueError(f"this model reads sequence files; {predict.given()} is for "
                             "other models: pass --data FILE")
        need_train = purpose == "train" or (purpose == "evaluate" and config.test is None)
        if purpose == "evaluate" and need_train and not Path(str(config.train)).is_file():
            raise ConfigError(f"this run has no test file and its training file {config.train} "
                              "(for the validation split) is gone; pass a test file with "
                              "--test FILE")
        test = config.test if purpose != "predict" else None
        predict_path = predict.data if predict is not None else None
        files = {"data.test": test, "predict file": predict_path}
        if need_train:
            files.update({"data.train": config.train, "data.val": config.val})
        for key, value in files.items():
            if value is not None and not Path(value).is_file():
                raise ConfigError(f"{key}: no such file: {value}")
            if value is not None:
                config.read_options(value)  # options that do not fit the file's format
        options = config.read_options()
        if family in LABEL_TASKS:
            options["task"] = LABEL_TASKS[family]
        if family == "tag" and config.labels == "auto":
            options["labels"] = "step"  # the tag family learns a label per step
        dm = FilesSourceModule(
            config.train if need_train else None,
            test,
            val_fraction=config.val_fraction,
            batch_size=config.batch_size,
            seed=seed,
            num_workers=config.num_workers,
            bucket=config.bucket,
            val_path=config.val if need_train else None,
            predict_path=predict_path,
            normalize=str(config.normalize),
            **options,
        )
        if state:  # before the training file: the checkpoint's split and statistics are used
            dm.load_state_dict(dict(state))
        return dm


SOURCE = FilesSource()
