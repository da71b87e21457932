"""samples.txt: a few lines of generated text after every training epoch, so the user sees the
model learn."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl

from rnnkit.families.lm.sample import Sampling, TextSampler

__all__ = ["EpochSamples"]


class EpochSamples(pl.Callback):
    """Appends ``length`` generated tokens (temperature 0.8, seeded by the run's seed and the
    epoch) to ``path`` after every training epoch, on the main process only.

    Sampling uses its own generator and eval mode, so the training run is not changed by it.
    """

    def __init__(self, path: Path, length: int, seed: int) -> None:
        self.path, self.length, self.seed = Path(path), length, seed

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        model = pl_module.model
        training = model.training
        info = pl_module.info
        try:
            sampler = TextSampler(model, dict(info.state["tokenizer"]), list(info.vocabulary))
            text = sampler.sample("", self.length, Sampling(temperature=0.8),
                                  seed=self.seed + trainer.current_epoch)
        finally:
            model.train(training)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(f"--- epoch {trainer.current_epoch + 1}, step {trainer.global_step} ---\n"
                    f"{text.rstrip()}\n\n")
