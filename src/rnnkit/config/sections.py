"""The sections every run has whatever its task and data: the optimizer and the trainer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.config.section import ConfigError, Section, option

__all__ = ["OptimConfig", "TrainerConfig"]


@dataclass(frozen=True)
class OptimConfig(Section):
    """Optimizer and learning-rate schedule."""

    key: ClassVar[str] = "optim"

    name: str = option("adam", "optimizer", choices=("adam", "adamw", "sgd"))
    lr: float = option(2e-3, "learning rate (the peak rate for onecycle)", min=0.0,
                       min_exclusive=True)
    weight_decay: float = option(0.0, "L2 penalty (adam, sgd) or decoupled decay (adamw)", min=0.0)
    momentum: float = option(0.9, "SGD momentum", min=0.0, max=1.0)
    nesterov: bool = option(False, "SGD with Nesterov momentum")
    schedule: str = option("onecycle", "learning-rate schedule",
                           choices=("onecycle", "cosine", "step", "none"))
    pct_start: float = option(0.25, "onecycle: fraction of the steps spent warming up",
                              min=0.0, max=1.0, min_exclusive=True)
    step_size: int = option(5, "step: epochs between decays", min=1)
    gamma: float = option(0.1, "step: decay factor", min=0.0, min_exclusive=True)

    def _check(self) -> None:
        if self.nesterov and (self.name != "sgd" or self.momentum == 0):
            raise ConfigError("optim.nesterov needs optim.name=sgd and optim.momentum > 0")


@dataclass(frozen=True)
class TrainerConfig(Section):
    """Lightning Trainer settings, seeding, checkpointing and early stopping."""

    key: ClassVar[str] = "trainer"

    epochs: int = option(12, "training epochs (derived from trainer.steps when that is > 0)",
                         min=1)
    steps: int = option(0, "training budget in optimizer steps; > 0 sets the epochs to "
                        "ceil(steps / batches per epoch) (0: use trainer.epochs)", min=0)
    check_every: int | str = option(
        "auto", "validate, print the progress line and write checkpoints every this many "
        "optimizer steps, rounded to whole epochs (auto: about every 100 steps, at least every "
        "epoch); an interrupted run resumes from the last check", min=1, auto=True)
    seed: int = option(0, "seed for weights, shuffling and dropout", min=0, max=2**32 - 1)
    grad_clip: float = option(1.0, "clip the gradient norm to this value (0 = off)", min=0.0)
    early_stopping: int = option(0, "stop after this many optimizer steps without a better "
                                 "monitored value, counted at the checks (0 = off)", min=0)
    monitor: str = option("auto", "metric for the best checkpoint and early stopping: one the "
                          "task family logs on validation data (classify: val_acc, val_loss; "
                          "regress: val_loss, val_mae, val_rmse), auto (the family's choice) or "
                          "none (the final weights are kept; also when there is no validation "
                          "data)")
    accelerator: str = option("auto", "Lightning accelerator: auto, cpu, gpu, ...")
    devices: int | str = option(1, "Lightning devices: a count >= 1, auto (all; several start "
                                "DDP) or a list of device indices such as '0,1'", min=1)
    num_nodes: int = option(1, "machines taking part (Lightning's num_nodes; each runs "
                            "trainer.devices processes: see the README's More than one machine)",
                            min=1)
    strategy: str = option("auto", "Lightning strategy: auto (ddp when there are several "
                           "processes), ddp, fsdp (a model too large for one device), ...")
    precision: str = option("32-true", "Lightning precision: 32-true, bf16-mixed, 16-mixed, ...")
    deterministic: bool = option(False, "also ask torch for deterministic kernels (slower)")
    threads: int | str = option("auto", "CPU threads for torch's kernels; auto: 1 for small "
                                "batches x hidden sizes (below 4096, where more threads only "
                                "wait on each other), else torch's default", min=1,
                                auto=True)
    log_every_n_steps: int = option(20, "log training metrics every n steps", min=1)
    progress_bar: bool = option(True, "show progress: a bar on a terminal, one line per check "
                                "otherwise")
    verbose: bool = option(False, "also print Lightning's model summary table")

    def _check(self) -> None:
        devices = self.devices
        if isinstance(devices, str) and devices != "auto":
            items = [d.strip() for d in devices.split(",") if d.strip()]
            if not items or not all(d.isdigit() for d in items):
                raise ConfigError(f"trainer.devices must be a count >= 1, auto or device "
                                  f"indices such as '0,1'; got {devices!r}")
            if "," not in devices:  # "2" is a count, as Lightning reads it ("2," an index)
                object.__setattr__(self, "devices", int(items[0]))
                if self.devices < 1:
                    raise ConfigError("trainer.devices must be a count >= 1, got 0")
