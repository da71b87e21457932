"""The lm family's task: truncated BPTT carries the state exactly, and each loop starts fresh."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
import torch.nn.functional as F

from rnnkit.config import RunConfig
from rnnkit.data.registry import get_source
from rnnkit.families import get_family
from rnnkit.runs.trainer import quiet_lightning

pytestmark = pytest.mark.filterwarnings("ignore:You defined a `validation_step`")


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("".join(f"line {i % 7} says {'ab' * (i % 5)}.\n" for i in range(120)),
                    encoding="utf-8")
    return path


def lm_config(path, **data) -> RunConfig:
    return RunConfig.from_dict({
        "task": "lm",
        "data": {"name": "corpus", "train": str(path), "bptt": 16, "batch_size": 4, **data},
        "model": {"cell": "gru", "hidden_size": 12, "num_layers": 2, "embedding_dim": 8},
        "trainer": {"progress_bar": False, "threads": 1},
    })


def built(config: RunConfig):
    quiet_lightning()
    dm = get_source("corpus").datamodule(config.data, seed=0, family="lm")
    dm.setup("fit")
    info = dm.describe()
    family = get_family("lm")
    torch.manual_seed(0)
    return dm, family.build(config, info), info


def test_validation_carries_the_state_across_batches_exactly(text_file, one_thread):
    dm, task, _ = built(lm_config(text_file))
    batches = list(dm.val_dataloader())
    assert len(batches) >= 2
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False)
    for _ in range(2):  # a second validation starts from zeros again, not from the first's end
        logged = trainer.validate(task, dataloaders=dm.val_dataloader(), verbose=False)
        # one forward over each column's whole text (the windows concatenated) gives the same loss
        x = torch.cat([b[0] for b in batches], dim=1)  # (N, windows * W)
        y = torch.cat([b[1] for b in batches], dim=1)
        with torch.no_grad():
            logits, _ = task.model.eval()(x)
        whole = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        assert logged[0]["val_loss"] == pytest.approx(float(whole), rel=1e-5)


def test_training_state_is_detached_and_reset_each_epoch(text_file, one_thread):
    config = lm_config(text_file)
    dm, task, _ = built(config)
    seen: list[tuple[int, bool]] = []

    class Watch(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            state = pl_module._states.get("train")
            seen.append((batch_idx, state is None))
            if state is not None:
                assert not state.requires_grad  # truncated: no graph into the last window

    trainer = pl.Trainer(max_epochs=2, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False,
                         callbacks=[Watch()], limit_val_batches=0)
    trainer.fit(task, train_dataloaders=dm.train_dataloader())
    assert [fresh for i, fresh in seen if i == 0] == [True, True]
    assert not any(fresh for i, fresh in seen if i > 0)


def test_a_text_does_not_train_a_classifier(text_file):
    config = lm_config(text_file)
    dm, _, info = built(config)
    with pytest.raises(ValueError, match="task classify needs class labels; the corpus data "
                                         "have one long text"):
        get_family("classify").check_data(info)
