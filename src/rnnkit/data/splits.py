"""SplitDataModule: a source whose splits are datasets of examples of different lengths,
batched in length buckets (texts, tagged sentences)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rnnkit.data.batching import make_loader
from rnnkit.data.source import PredictInputs, SourceDataModule

__all__ = ["SplitDataModule"]


class SplitDataModule(SourceDataModule):
    """A :class:`~rnnkit.data.source.SourceDataModule` whose reading fills :attr:`splits`
    (``"train"``, ``"val"``, ``"test"``, ``"predict"``: datasets with a ``lengths`` array).

    Loaders batch by length buckets (``data.bucket``) with the resolved ``batch_size`` (64
    while it is still ``auto``), prediction in batches of :attr:`PREDICT_BATCH` in input order.
    Subclasses set :attr:`collate` and read the splits in ``_load_train()`` (the training file
    and its splits), ``_load_file(split, path)`` (a validation or test file) and
    ``_load_predict()``.

    Args:
        config: the ``data:`` section.
        seed: shuffle and bucketing seed.
        purpose: ``"train"``, ``"evaluate"`` or ``"predict"``.
        state: a checkpoint's data state, or None.
        predict: what to predict.
    """

    collate: ClassVar[Callable[[Any], Any]]
    PREDICT_BATCH: ClassVar[int] = 256

    def __init__(self, config: Any, *, seed: int = 0, purpose: str = "train",
                 state: Mapping[str, Any] | None = None,
                 predict: PredictInputs | None = None) -> None:
        super().__init__()
        self.config, self.seed, self.purpose = config, seed, purpose
        self.predict_inputs = predict or PredictInputs()
        self.state = dict(state or {})
        self.batch_size: int | str = config.batch_size
        self.digests: dict[str, str] = {}  # SHA-256 of the files read, by split
        self.splits: dict[str, Any] = {}

    def setup(self, stage: str | None = None) -> None:
        """Read what the purpose needs, once: training reads every split; evaluation the test
        file, or the training file for its validation split; prediction what to predict."""
        c = self.config
        needs_train = self.purpose == "train" or (self.purpose == "evaluate" and c.test is None)
        if needs_train and "train" not in self.splits:
            self._load_train()
        if needs_train and c.val is not None and "val" not in self.splits:
            self._load_file("val", c.val)
        if self.purpose != "predict" and c.test is not None and "test" not in self.splits:
            self._load_file("test", c.test)
        if self.purpose == "predict" and "predict" not in self.splits:
            self._load_predict()

    def _load_train(self) -> None:
        raise NotImplementedError

    def _load_file(self, split: str, path: str) -> None:
        raise NotImplementedError

    def _load_predict(self) -> None:
        raise NotImplementedError

    def loader(self, split: str, train: bool = False) -> Any:
        """The DataLoader of ``split`` (``train``: shuffled, seeded by the epoch)."""
        ds = self.splits[split]
        predict = split == "predict"
        batch = self.PREDICT_BATCH if predict else \
            self.batch_size if isinstance(self.batch_size, int) else 64
        return make_loader(ds, ds.lengths, batch, type(self).collate, train=train,
                           bucket=self.config.bucket and not predict, seed=self.seed,
                           num_workers=self.config.num_workers)

    def has_validation(self) -> bool:
        return "val" in self.splits

    def train_dataloader(self) -> Any:
        return self.loader("train", train=True)

    def val_dataloader(self) -> Any:
        return self.loader("val") if "val" in self.splits else []

    def test_dataloader(self) -> Any:
        return self.loader("test")

    def report_split(self) -> tuple[str, Any, int]:
        for split in ("test", "val"):
            if split in self.splits:
                return split, self.loader(split), len(self.splits[split])
        raise ValueError("no test file, no test fraction and no validation split: nothing to "
                         "report a figure on; give --test FILE or data.test_fraction")
