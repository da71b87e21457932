"""Config: defaults, YAML round trip, overrides, validation, unknown keys, and the sections
chosen by name (``task`` picks the model section, ``data.name`` the data section)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from rnnkit.config import (
    ConfigError,
    OptimConfig,
    RunConfig,
    TrainerConfig,
    apply_overrides,
    load_config,
    save_config,
    section_classes,
)
from rnnkit.data.mnist.config import MnistConfig
from rnnkit.data.sequences.config import FilesConfig
from rnnkit.families.classify.config import SequenceModelConfig

FILES = [("data.name", "files"), ("data.train", "x.ts")]


def test_defaults_are_the_main_job():
    c = RunConfig()
    assert (c.task, type(c.data), type(c.model)) == ("auto", MnistConfig, SequenceModelConfig)
    assert (c.data.source, c.data.view) == ("bundled", "rows")
    assert (c.model.cell, c.model.summary, c.model.bidirectional) == ("lstm", "last", False)
    assert c == load_config()


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().model.hidden_size = 3  # type: ignore[misc]


def test_yaml_round_trip(tmp_path):
    c = load_config(overrides=["model.cell=gru", "model.bidirectional=true", "optim.lr=1e-3",
                               "trainer.devices=auto", "out=somewhere"])
    save_config(c, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == c
    plain = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert list(plain) == ["name", "out", "task", "data", "model", "optim", "trainer"]
    assert RunConfig.from_dict(c.to_dict()) == c


def test_file_then_overrides(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("model:\n  hidden_size: 64\n  cell: gru\ntrainer:\n  epochs: 3\n")
    c = load_config(path, ["trainer.epochs=5", "data.source=/data/mnist"])
    assert (c.model.hidden_size, c.model.cell) == (64, "gru")
    assert c.trainer.epochs == 5
    assert c.data.source == "/data/mnist"
    assert c.optim == OptimConfig()  # untouched sections keep their defaults


def test_override_values_are_yaml():
    c = load_config(overrides=["optim.lr=1", "model.head_batchnorm=yes", "out=null"])
    assert c.optim.lr == 1.0 and isinstance(c.optim.lr, float)
    assert c.model.head_batchnorm is True
    assert c.out is None


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("model.hiden_size=3", ["model.hiden_size", "hidden_size", "num_layers", "summary"]),
        ("trainer.epoch=3", ["trainer.epoch", "epochs", "seed", "grad_clip"]),
        ("color=red", ["color", "name", "out", "task", "data", "model", "optim", "trainer"]),
        ("modle.cell=gru", ["modle.cell", "data", "model", "optim", "trainer"]),
    ],
)
def test_unknown_key_lists_the_valid_ones(override, names):
    with pytest.raises(ConfigError, match="unknown config key") as info:
        load_config(overrides=[override])
    for name in names:
        assert name in str(info.value)


def test_unknown_key_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("optim:\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "bad.yaml" in message and "optim.learning_rate" in message and "lr" in message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model.cell=transformer", "must be one of rnn, lstm, gru"),
        ("model.hidden_size=0", "must be >= 1"),
        ("model.hidden_size=1.5", "must be int"),
        ("model.bidirectional=3", "must be bool"),
        ("optim.lr=0", "must be > 0"),
        ("optim.schedule=linear", "onecycle, cosine, step, none"),
        ("trainer.epochs=abc", "must be int"),
        ("model.dropout=0.2", None),  # fine with the default 2 layers
    ],
)
def test_values_are_checked(override, expected):
    if expected is None:
        load_config(overrides=[override])
        return
    with pytest.raises(ConfigError, match=expected):
        load_config(overrides=[override])


def test_cross_field_checks():
    with pytest.raises(ConfigError, match="num_layers >= 2"):
        SequenceModelConfig(num_layers=1, dropout=0.3)
    with pytest.raises(ConfigError, match="nesterov"):
        OptimConfig(name="adam", nesterov=True)
    with pytest.raises(ConfigError, match="bundled"):
        MnistConfig(download=True)
    with pytest.raises(ConfigError, match="needs data.train"):
        FilesConfig()


def test_direct_construction_is_checked_and_normalised():
    assert TrainerConfig(grad_clip=2).grad_clip == 2.0
    with pytest.raises(ConfigError, match="trainer.epochs"):
        TrainerConfig(epochs=0)


@pytest.mark.parametrize("item", ["model", "model.cell", "no_equals_sign", "a.b.c=1"])
def test_bad_override_syntax(item):
    with pytest.raises(ConfigError):
        load_config(overrides=[item])


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("model: {cell: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")
    (tmp_path / "section.yaml").write_text("model: 3\n")
    with pytest.raises(ConfigError, match="section 'model' must be a mapping"):
        load_config(tmp_path / "section.yaml")


def test_apply_overrides_does_not_mutate():
    original = {"model": {"cell": "gru"}}
    apply_overrides(original, ["model.cell=rnn"])
    assert original == {"model": {"cell": "gru"}}


def test_shipped_recipes_load():
    from pathlib import Path

    recipes = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
    assert len(recipes) >= 5
    for path in recipes:
        load_config(path)


def test_pair_overrides_are_taken_literally():
    c = load_config(overrides=[("data.source", "2024"), ("out", "runs/a: b"),
                               ("trainer.epochs", 3)])
    assert (c.data.source, c.out, c.trainer.epochs) == ("2024", "runs/a: b", 3)
    with pytest.raises(ConfigError, match="must be str"):
        load_config(overrides=["data.source=2024"])  # YAML reads a number


def test_data_name_picks_the_data_section_and_its_defaults():
    c = load_config(overrides=FILES)
    assert type(c.data) is FilesConfig and c.data.train == "x.ts"
    assert c.task == "auto"
    # a run on sequence files starts from defaults made for small data, under the file and
    # the command line
    assert (c.model.cell, c.model.patch, c.trainer.steps, c.optim.name) == \
        ("gru", "auto", 1000, "adamw")
    assert load_config(overrides=[*FILES, "model.cell=lstm"]).model.cell == "lstm"
    assert RunConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize(("overrides", "names"), [
    (["data.train=x.ts"], ["data.train", "source", "view"]),  # a files key on mnist data
    ([*FILES, "data.view=rows"], ["data.view", "train", "label_col"]),  # and the reverse
    ([*FILES, "data.task=regression"], ["data.task", "train"]),  # the top-level task replaced it
])
def test_each_data_section_has_its_own_keys(overrides, names):
    with pytest.raises(ConfigError, match="unknown config key") as info:
        load_config(overrides=overrides)
    for name in names:
        assert name in str(info.value)


def test_task_picks_the_family_and_its_model_section():
    assert section_classes("regress", "mnist") == (MnistConfig, SequenceModelConfig, "regress")
    # auto: the model section of the source's default family
    assert section_classes("auto", "files") == (FilesConfig, SequenceModelConfig, "classify")
    assert load_config(overrides=["task=regress"]).task == "regress"
    c = load_config(overrides=[*FILES, "task=classify"])
    assert (c.task, type(c.model)) == ("classify", SequenceModelConfig)
    with pytest.raises(ConfigError, match="task must be auto or one of classify, regress"):
        load_config(overrides=["task=translate"])
    with pytest.raises(ConfigError, match="data.name must be one of mnist, files"):
        load_config(overrides=["data.name=parquet"])


def test_sections_of_the_wrong_class_are_refused():
    assert type(RunConfig(data=FilesConfig(train="x.ts")).data) is FilesConfig
    with pytest.raises(ConfigError, match="model must be a SequenceModelConfig"):
        RunConfig(model=OptimConfig())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="optim must be a OptimConfig"):
        RunConfig(optim=TrainerConfig())  # type: ignore[arg-type]
