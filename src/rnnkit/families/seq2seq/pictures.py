"""AttentionPictures: where the decoder looked, drawn for a few validation examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from rnnkit.data.pairs.batches import EOS

__all__ = ["AttentionPictures", "draw_attention"]

EXAMPLES = 4


def draw_attention(examples: list[dict[str, Any]], path: Path) -> None:
    """Heatmaps of attention weights, one panel per example: a row per output token, a column
    per source token, darker where the output step looked. Each example is a dict with
    ``weights`` ``(T, S)``, ``source`` and ``output`` (token lists)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(examples), figsize=(max(4 * len(examples), 6), 4),
                             squeeze=False)
    for ax, ex in zip(axes[0], examples, strict=True):
        ax.imshow(ex["weights"], cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(ex["source"])), ex["source"], fontsize=8, rotation=90)
        ax.set_yticks(range(len(ex["output"])), ex["output"], fontsize=8)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
    fig.suptitle("attention: which source step each output step looked at", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    tmp.replace(path)


class AttentionPictures(pl.Callback):
    """Keeps some sources of the first validation batches and, after the test
    (with the best checkpoint's weights), draws the attention of the greedy decoding of a few
    of them, short to long, into ``plots/attention.png``."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / "plots" / "attention.png"
        self.kept: list[tuple[torch.Tensor, int]] = []  # (source (S,), length) per batch
        self.epochs_seen = 0

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: Any, outputs: Any,
                                batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self.epochs_seen == 0 and not trainer.sanity_checking and batch_idx < 8:
            lengths = batch["source_lengths"].tolist()
            for row in range(min(len(lengths), 16)):
                n = int(lengths[row])
                self.kept.append((batch["source"][row, :n].detach().cpu(), n))

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            self.epochs_seen += 1

    def _examples(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A few of the kept sources, of lengths spread between the short and the long."""
        kept = sorted(self.kept, key=lambda x: x[1])
        picks = sorted({int(q * (len(kept) - 1)) for q in (0.2, 0.45, 0.7, 0.9)})[:EXAMPLES]
        rows = [kept[i] for i in picks]
        source = torch.zeros(len(rows), max(n for _, n in rows), dtype=torch.long)
        for i, (ids, n) in enumerate(rows):
            source[i, :n] = ids
        return source, torch.tensor([n for _, n in rows])

    def on_test_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if not self.kept or not trainer.is_global_zero or pl_module.model.attention is None:
            return
        text = pl_module.token_text()
        source, lengths = (t.to(pl_module.device) for t in self._examples())
        was_training = pl_module.training
        pl_module.eval()
        hyps = pl_module.decode(source, lengths, beam_size=1)
        pl_module.train(was_training)
        examples = []
        for row, [h] in enumerate(hyps):
            n = int(lengths[row])
            output = text.tokens("target", h.tokens) + ([EOS] if h.ended else [])
            examples.append({"weights": h.weights[:, :n].numpy(),
                             "source": text.tokens("source", source[row, :n].tolist()),
                             "output": output})
        draw_attention(examples, self.path)
