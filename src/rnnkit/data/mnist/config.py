"""The mnist source's ``data:`` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "MnistConfig", "defaults"]

DEFAULT_FAMILY = "classify"
AUTO_FAMILY = {"classes": "classify"}  # task: auto, by what the labels are


@dataclass(frozen=True)
class MnistConfig(DataSection):
    """MNIST digits read as sequences: which files, which view, how they are batched."""

    RESUMABLE: ClassVar[tuple[str, ...]] = ("source", "download", "num_workers")
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("source", "download", "num_workers", "batch_size")

    name: str = option("mnist", "data source: mnist, files (your sequence files) or text")
    source: str = option("bundled", "'bundled' (the 10k/2k sample shipped with rnnkit), 'full' "
                         "(the data cache, ~/.cache/rnnkit/mnist) or a directory holding the "
                         "four MNIST IDX files (.gz or raw)")
    download: bool = option(False, "download MNIST into `source` when files are missing")
    view: str = option("rows", "how an image becomes a sequence: rows (28 steps x 28), pixels "
                       "(784 steps x 1) or permuted (pixels in a fixed random order)",
                       choices=("rows", "pixels", "permuted"))
    perm_seed: int = option(0, "seed of the permuted view's pixel order", min=0)
    batch_size: int = option(100, "examples per batch", min=1)
    val_size: int = option(1000, "training examples held out for validation", min=1)
    normalize: str | bool = option("feature", "feature: standardise pixels with MNIST's "
                                   "training mean and std; none: x/255 (true/false mean "
                                   "feature/none)", choices=("feature", "none"))
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if self.download and self.source == "bundled":
            raise ConfigError("data.download=true needs data.source 'full' or a directory, "
                              "not 'bundled' (the bundled sample ships with rnnkit)")


CONFIG = MnistConfig


def defaults(family: str) -> dict[str, Any]:
    """No defaults beyond the sections' own: they are the main job's."""
    return {}
