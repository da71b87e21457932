"""Optimizers and schedules from OptimConfig; a run with SGD, a step schedule, early stopping."""

from __future__ import annotations

import pytest
import torch
from tiny_data import tiny_config

from rnnkit.config import OptimConfig
from rnnkit.families.optim import configure_optimizers
from rnnkit.runs import read_checkpoint, train
from rnnkit.runs.plots import read_metrics


@pytest.mark.parametrize(
    ("name", "cls"),
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)],
)
@pytest.mark.parametrize(
    ("schedule", "scheduler", "interval"),
    [
        ("onecycle", torch.optim.lr_scheduler.OneCycleLR, "step"),
        ("cosine", torch.optim.lr_scheduler.CosineAnnealingLR, "step"),
        ("step", torch.optim.lr_scheduler.StepLR, "epoch"),
        ("none", None, None),
    ],
)
def test_optimizer_and_schedule(name, cls, schedule, scheduler, interval):
    config = OptimConfig(name=name, lr=0.1, weight_decay=1e-4, schedule=schedule)
    result = configure_optimizers(config, torch.nn.Linear(2, 3), total_steps=50)
    if scheduler is None:
        assert isinstance(result, cls)
        return
    assert isinstance(result["optimizer"], cls)
    assert result["optimizer"].param_groups[0]["weight_decay"] == 1e-4
    assert isinstance(result["lr_scheduler"]["scheduler"], scheduler)
    assert result["lr_scheduler"]["interval"] == interval


def test_sgd_momentum_and_nesterov():
    config = OptimConfig(name="sgd", momentum=0.8, nesterov=True, schedule="none")
    group = configure_optimizers(config, torch.nn.Linear(2, 3), 10).param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (0.8, True)


def test_onecycle_peaks_at_lr():
    config = OptimConfig(lr=0.5, schedule="onecycle", pct_start=0.5)
    result = configure_optimizers(config, torch.nn.Linear(2, 3), total_steps=10)
    optimizer, scheduler = result["optimizer"], result["lr_scheduler"]["scheduler"]
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert max(rates) == pytest.approx(0.5)


def test_run_with_sgd_step_schedule_and_early_stopping(tiny_mnist, tmp_path):
    config = tiny_config(
        tiny_mnist, tmp_path / "run",
        model={"cell": "gru", "bidirectional": True, "summary": "attention",
               "head_batchnorm": True},
        optim={"name": "sgd", "lr": 0.05, "schedule": "step", "step_size": 1},
        trainer={"epochs": 3, "early_stopping": 1, "monitor": "val_loss"},
    )
    result = train(config)
    assert result.metrics["test_acc"] > 0.3  # beyond chance (0.1) even at SGD's slower pace
    ckpt = read_checkpoint(result.run_dir / "checkpoints/last.ckpt")
    assert any(key.startswith("EarlyStopping") for key in ckpt["callbacks"])
    assert ckpt["lr_schedulers"][0]["step_size"] == 1
    rates = [float(r["lr-SGD"]) for r in read_metrics(result.run_dir / "metrics.csv")
             if r.get("lr-SGD")]
    assert rates == pytest.approx([0.05, 0.005, 0.0005])  # decayed by gamma every epoch
