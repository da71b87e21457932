"""Small data with the defaults: what ``rnnkit train --train FILE`` chooses, says and learns."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from rnnkit.cli import main
from rnnkit.config import ConfigError, RunConfig, TrainerConfig, load_config, save_config
from rnnkit.data.choices import MIN_VAL_SEQUENCES, auto_batch_size, auto_val_fraction
from rnnkit.data.sequences import SequenceDataset
from rnnkit.data.sequences.ts import write_ts
from rnnkit.runs.budget import plan_budget


def _shapes(n: int, seed: int, length: int = 40) -> SequenceDataset:
    """Two classes told apart by shape only: a rising ramp or a bump, at random level and scale
    (per-sequence normalisation makes them equal), plus noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    seqs, labels = [], []
    for i in range(n):
        k = i % 2
        shape = t if k == 0 else np.exp(-((t - rng.uniform(0.3, 0.7)) ** 2) / 0.01)
        level, scale = rng.normal(0, 5), rng.uniform(0.5, 20)
        seqs.append((level + scale * (shape + rng.normal(0, 0.1, length)))[:, None])
        labels.append(k)
    return SequenceDataset(seqs, np.array(labels), "classification", ["ramp", "bump"])


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    write_ts(_shapes(30, 0), root / "train.ts")
    write_ts(_shapes(100, 1), root / "test.ts")
    out = root / "run"
    return root, out


def test_tens_of_sequences_are_learnt_with_the_defaults(small_run, capsys):
    root, out = small_run
    assert main(["train", "--train", str(root / "train.ts"), "--test", str(root / "test.ts"),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    lines = printed.strip().splitlines()
    accuracy = float(lines[-2].split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 90.0, printed  # chance is 50 %
    assert lines[-1] == f"run directory: {out}"

    # what was chosen, and why, is printed before training and kept in config.yaml
    assert "budget: 1000 optimizer steps" in lines[0]
    assert any("no validation split" in line and "30" in line for line in lines[:5])
    assert any(line.startswith("batch size 8 for 30 training sequences") for line in lines[:5])
    text = (out / "config.yaml").read_text()
    assert "# budget: 1000 optimizer steps" in text and "# no validation split" in text
    saved = RunConfig.from_dict(yaml.safe_load(text))
    assert (saved.data.batch_size, saved.data.val_fraction) == (8, 0.0)
    assert saved.data.normalize == "sequence" and saved.model.frontend == "conv"
    assert saved.model.patch == 1  # 40 steps: short enough to read every step
    assert saved.trainer.monitor == "none" and saved.trainer.steps == 1000
    assert saved.trainer.epochs * 4 >= 1000  # 30 sequences at batch 8: 4 batches an epoch

    # not a terminal: plain progress lines, no carriage returns, no module table
    assert "\r" not in printed
    progress = [line for line in lines if line.startswith("epoch ")]
    assert len(progress) >= 10 and "train_loss" in progress[0]
    assert "| Name" not in printed and "Trainable params" not in printed


def test_verbose_prints_the_module_table(small_run, tmp_path, caplog):
    root, _ = small_run
    assert main(["train", "--train", str(root / "train.ts"), "--out", str(tmp_path / "v"),
                 "--epochs", "1", "--verbose", "--set", "model.hidden_size=8"]) == 0
    assert "Trainable params" in caplog.text  # Lightning logs it (to stderr)


def test_a_budget_in_epochs_replaces_the_step_budget(tmp_path):
    config = load_config(overrides=[("data.name", "files"), ("data.train", "x.ts"),
                                    ("trainer.epochs", 5)])
    assert config.trainer.steps == 0 and config.trainer.epochs == 5
    default = load_config(overrides=[("data.name", "files"), ("data.train", "x.ts")])
    assert default.trainer.steps == 1000 and default.model.patch == "auto"
    assert load_config().model.patch == 1  # the MNIST job keeps its own defaults
    saved = load_config(overrides=[("data.name", "files"), ("data.train", "x.ts"),
                                   "trainer.steps=500"])
    save_config(saved, tmp_path / "config.yaml")  # a saved run: both epochs and steps
    assert load_config(tmp_path / "config.yaml").trainer.steps == 500
    rerun = load_config(tmp_path / "config.yaml", [("trainer.epochs", 3)])
    assert (rerun.trainer.epochs, rerun.trainer.steps) == (3, 0)  # the command line's word
    with pytest.raises(ConfigError, match="both set the budget"):
        load_config(overrides=["trainer.epochs=3", "trainer.steps=30"])


@pytest.mark.parametrize(("n", "has_test", "fraction"), [
    (30, True, 0.0), (480, True, 0.0), (500, True, 0.1), (5000, True, 0.1),
    (30, False, 0.25), (300, False, 50 / 300), (600, False, 0.1),
])
def test_validation_is_held_out_only_when_it_can_mean_something(n, has_test, fraction):
    chosen, why = auto_val_fraction(n, has_test)
    assert chosen == pytest.approx(fraction)
    assert str(n) in why
    if chosen:
        assert round(chosen * n) >= min(MIN_VAL_SEQUENCES, round(0.25 * n))


def test_batch_size_gives_small_data_many_steps():
    assert [auto_batch_size(n) for n in (5, 10, 50, 200, 1000, 60000)] == [5, 8, 12, 50, 64, 64]


@pytest.mark.parametrize(("steps", "epochs", "check_every", "bpe", "expect"), [
    (1500, 12, "auto", 7, (224, 14)),   # 1500 steps of 7 batches, a check every 98 steps
    (1000, 12, "auto", 4, (250, 25)),
    (0, 12, "auto", 90, (12, 1)),       # the MNIST job: every epoch
    (0, 2, "auto", 5, (2, 1)),          # a short run still checks every epoch
    (0, 10, 300, 100, (12, 3)),         # epochs rounded up to whole checks
    (30, 12, 1000, 5, (6, 6)),          # a check interval beyond the budget is capped
])
def test_budget_in_steps_and_checks(steps, epochs, check_every, bpe, expect):
    budget = plan_budget(TrainerConfig(steps=steps, epochs=epochs, check_every=check_every), bpe)
    assert (budget.epochs, budget.epochs_per_check) == expect
    assert budget.steps >= steps and budget.epochs % budget.epochs_per_check == 0
    patience = plan_budget(TrainerConfig(steps=steps, epochs=epochs, early_stopping=500,
                                         check_every=check_every), bpe).patience
    assert patience * budget.epochs_per_check * bpe >= 500


def test_a_resumed_run_keeps_its_checks_and_epochs():
    first = plan_budget(TrainerConfig(epochs=49), 1)  # 49 epochs of one batch: checks every 4
    assert (first.epochs, first.epochs_per_check) == (52, 4)
    saved = TrainerConfig(epochs=first.epochs)  # what config.yaml holds after the first plan
    assert plan_budget(saved, 1).epochs != first.epochs  # planned anew it would drift
    again = plan_budget(saved, 1, epochs_per_check=first.epochs_per_check)
    assert (again.epochs, again.epochs_per_check) == (first.epochs, first.epochs_per_check)
