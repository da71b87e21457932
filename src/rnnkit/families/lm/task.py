"""LanguageModelTask: a LanguageModel trained on one long token stream by truncated
backpropagation through time (the hidden state carried from batch to batch, detached)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from rnnkit.families.base import FamilyTask
from rnnkit.families.lm.model import build_language_model, token_unit
from rnnkit.models.language_model import LanguageModel

__all__ = ["LanguageModelTask"]


class LanguageModelTask(FamilyTask):
    """Next-token prediction with cross-entropy, the state carried across batches.

    Lightning 2 has no ``truncated_bptt_steps``, so the task carries the state itself: each
    batch is the next window of every one of the N parallel streams (the data module's layout),
    the state a batch ends with starts the next one, detached, so gradients flow through one
    window only. The state starts from zeros at each epoch of training, validation and test,
    and each loop has its own (validation never continues training's).

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict.
        info: a :class:`~rnnkit.data.info.DataInfo` (``stream``) as a plain dict.

    Batches: ``(x (N, W) int64, y (N, W) int64)``, ``y`` the tokens after ``x``.

    Logged: ``train_loss``, ``val_loss`` and ``test_loss`` in nats per token (the mean over
    every target token: each batch weighs as many as it holds, N*W, or fewer in the last window
    of a validation or test text). After ``Trainer.test``,
    :attr:`test_report` holds the bits per token (per character for a character model), the
    perplexity and the number of tokens.
    """

    family = "lm"

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__(config, info)
        self.model = build_language_model(self.run_config.model, self.info)
        self.unit = token_unit(self.info)
        self._states: dict[str, Any] = {}
        self._test_tokens = 0

    def forward(self, tokens: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Logits ``(N, L, V)`` and the final state."""
        return self.model(tokens, state)

    def _loss(self, batch: Any, loop: str) -> Tensor:
        x, y = batch
        state = self._states.get(loop)
        logits, state = self.model(x, state)  # (N, W, V)
        self._states[loop] = LanguageModel.detach_state(state)
        return F.cross_entropy(logits.flatten(0, 1), y.flatten())

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss = self._loss(batch, "train")
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True,
                 batch_size=batch[1].numel())
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", self._loss(batch, "val"), prog_bar=True, batch_size=batch[1].numel())

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._test_tokens += batch[1].numel()
        self.log("test_loss", self._loss(batch, "test"), batch_size=batch[1].numel())

    def on_train_epoch_start(self) -> None:
        self._states["train"] = None

    def on_validation_epoch_start(self) -> None:
        self._states["val"] = None

    def on_test_epoch_start(self) -> None:
        self._states["test"] = None
        self._test_tokens = 0
        self.test_report = {}

    def on_test_epoch_end(self) -> None:
        loss = float(self.trainer.callback_metrics.get("test_loss", float("nan")))
        self.test_report = {
            "unit": self.unit,
            f"bits_per_{self.unit}": loss / math.log(2),
            "perplexity": math.exp(loss) if loss < 700 else float("inf"),
            "tokens": self._test_tokens,
        }
