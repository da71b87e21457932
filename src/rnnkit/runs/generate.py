"""Generate text with a trained language model run."""

from __future__ import annotations

import os
from collections.abc import Iterable

from rnnkit.config import Override, RunConfig
from rnnkit.families.lm.sample import TextSampler
from rnnkit.runs.evaluate import load_run

__all__ = ["load_sampler"]


def load_sampler(target: str | os.PathLike,
                 overrides: Iterable[Override] = ()) -> tuple[TextSampler, RunConfig]:
    """The text sampler of a language-model run's best checkpoint (or a given ``.ckpt``), on
    the CPU, with its run config (``trainer.threads`` may be overridden).

    Raises:
        RunError: not a checkpoint of the lm family (the message names the family it holds).
    """
    run = load_run(target, overrides, families=("lm",), command="generate")
    sampler = TextSampler(run.task.model, dict(run.info.state["tokenizer"]),
                          list(run.info.vocabulary))
    return sampler, run.config
