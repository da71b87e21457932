"""The training budget: epochs from a step count, how often to check, early-stopping patience.

A run on a few dozen sequences has a handful of batches per epoch, so a budget in epochs means
almost no optimizer steps, and validating and writing checkpoints after every epoch costs more
than the epoch itself. The budget is therefore laid out in optimizer steps and *checks*: every
``epochs_per_check`` epochs the run validates, prints its progress line and writes its
checkpoints (an interrupted run resumes from the last check).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnkit.config import TrainerConfig

__all__ = ["AUTO_CHECK_STEPS", "Budget", "plan_budget"]

AUTO_CHECK_STEPS = 100  # trainer.check_every=auto: a check about every 100 optimizer steps


@dataclass(frozen=True)
class Budget:
    """How long a run trains and how often it checks.

    Attributes:
        batches_per_epoch: optimizer steps in one epoch.
        epochs: epochs to train, a multiple of ``epochs_per_check`` (so the last epoch is a
            check and its weights are saved).
        epochs_per_check: epochs between checks (validation, progress line, checkpoints).
        patience: checks without improvement before early stopping (0 = off).
        requested_steps: ``trainer.steps`` (0 when the budget was given in epochs).
    """

    batches_per_epoch: int
    epochs: int
    epochs_per_check: int
    patience: int = 0
    requested_steps: int = 0

    @property
    def steps(self) -> int:
        return self.epochs * self.batches_per_epoch

    def describe(self) -> str:
        """One sentence: the steps, epochs and checks."""
        asked = f"{self.requested_steps} optimizer steps -> " if self.requested_steps else ""
        n = self.epochs_per_check
        every = "every epoch" if n == 1 else \
            f"every {n} epochs ({n * self.batches_per_epoch} steps)"
        epochs = f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        return (f"budget: {asked}{epochs} of {self.batches_per_epoch} batches "
                f"= {self.steps} steps; checks {every}")


def plan_budget(
    trainer: TrainerConfig, batches_per_epoch: int, epochs_per_check: int | None = None
) -> Budget:
    """The :class:`Budget` of ``trainer`` for an epoch of ``batches_per_epoch`` steps.

    A resumed run passes the ``epochs_per_check`` it was laid out with, so that its checks and
    epochs stay those of the uninterrupted run (a saved, rounded epoch count would otherwise be
    planned anew).
    """
    bpe = max(1, int(batches_per_epoch))
    epochs = math.ceil(trainer.steps / bpe) if trainer.steps > 0 else trainer.epochs
    if epochs_per_check is not None:
        per_check = epochs_per_check
    elif trainer.check_every == "auto":  # about every 100 steps, and at least 10 checks a run
        per_check = max(1, min(round(AUTO_CHECK_STEPS / bpe), epochs // 10))
    else:
        per_check = max(1, min(round(int(trainer.check_every) / bpe), epochs))
    epochs = math.ceil(epochs / per_check) * per_check
    patience = math.ceil(trainer.early_stopping / (per_check * bpe)) \
        if trainer.early_stopping > 0 else 0
    return Budget(bpe, epochs, per_check, patience, trainer.steps)
