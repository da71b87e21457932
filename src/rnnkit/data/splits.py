"""SplitDataModule: a source whose splits are datasets of examples of different lengths,
batched in length buckets (texts, tagged sentences)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rnnkit.data.batching import make_loader
from rnnkit.data.source import SourceDataModule

__all__ = ["SplitDataModule"]


class SplitDataModule(SourceDataModule):
    """A :class:`~rnnkit.data.source.SourceDataModule` whose reading fills :attr:`splits`
    (``"train"``, ``"val"``, ``"test"``, ``"predict"``: datasets with a ``lengths`` array).

    Loaders batch by length buckets (``data.bucket``) with the resolved ``batch_size`` (64
    while it is still ``auto``), prediction in batches of :attr:`PREDICT_BATCH` in input order.
    Subclasses set :attr:`collate` and, in ``__init__``, ``config``, ``seed`` and
    ``batch_size``.
    """

    collate: ClassVar[Callable[[Any], Any]]
    PREDICT_BATCH: ClassVar[int] = 256

    def __init__(self) -> None:
        super().__init__()
        self.splits: dict[str, Any] = {}

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
