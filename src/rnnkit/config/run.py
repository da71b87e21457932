"""RunConfig: one section per component, the ``data:`` and ``model:`` classes chosen by name.

A run is described by one :class:`RunConfig`::

    name: mnist_rows_lstm
    out: null                 # run directory; null = runs/<name>-<timestamp>
    task: auto                # the task family: classify, regress, ... (auto: from the data)
    data:    {name: mnist, source: bundled, view: rows, ...}   # data.name picks the source
    model:   {cell: lstm, hidden_size: 128, ...}               # task picks the model section
    optim:   {name: adam, lr: 0.002, schedule: onecycle, ...}
    trainer: {epochs: 12, seed: 0, grad_clip: 1.0, ...}

``data.name`` chooses the data source (:mod:`rnnkit.data.registry`) and so the class of the
``data:`` section; ``task`` chooses the family (:mod:`rnnkit.families`) and so the class of
``model:``. With ``task: auto`` the model section is the source's default family's, and the
family itself is decided when the data are read (class labels: classify; numeric targets:
regress). The defaults are the main job (``rnnkit train`` with no arguments); a source may lay
its own defaults under a config (sequence files: a model and budget made for small data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.config.overrides import SECTIONS, Override, apply_overrides, override_key
from rnnkit.config.section import ConfigError, DataSection, Section, build_section, option
from rnnkit.config.sections import OptimConfig, TrainerConfig
from rnnkit.config.yaml_io import read_yaml

__all__ = ["RunConfig", "load_config", "section_classes"]


def section_classes(task: str, source: str) -> tuple[type, type, str]:
    """(data section class, model section class, family whose model section it is) for a
    ``task`` (a family or ``auto``) and a data source name."""
    from rnnkit.data.registry import source_config
    from rnnkit.families import FAMILIES, family_config

    if task != "auto" and task not in FAMILIES:
        raise ConfigError(f"task must be auto or one of {', '.join(FAMILIES)}; got {task!r}")
    data_module = source_config(source)
    family = data_module.DEFAULT_FAMILY if task == "auto" else task
    return data_module.CONFIG, family_config(family).CONFIG, family


def _default_data() -> DataSection:
    from rnnkit.data.mnist.config import MnistConfig

    return MnistConfig()


def _default_model() -> Section:
    from rnnkit.families.classify.config import SequenceModelConfig

    return SequenceModelConfig()


@dataclass(frozen=True)
class RunConfig(Section):
    """Everything a run needs; the defaults are the main job."""

    name: str = option("mnist_rows_lstm", "run name, used for the default run directory")
    out: str | None = option(None, "run directory (default: runs/<name>-<timestamp>)")
    task: str = option("auto", "task family: classify, regress, lm, or auto (from the data: "
                       "class labels classify, numeric targets regress, one text lm)")
    data: Section = field(default_factory=_default_data, metadata={"help": "data"})
    model: Section = field(default_factory=_default_model, metadata={"help": "model"})
    optim: Section = field(default_factory=OptimConfig, metadata={"help": "optimizer"})
    trainer: Section = field(default_factory=TrainerConfig, metadata={"help": "trainer"})

    def _check(self) -> None:
        name = self.name
        if not name or name in (".", "..") or any(c in name for c in '/\\:\0'):
            raise ConfigError(f"name must be a plain name without path separators (it names "
                              f"the directory under runs/); got {name!r}")
        data_cls, model_cls, _ = section_classes(self.task, getattr(self.data, "name", "?"))
        for key, cls in (("data", data_cls), ("model", model_cls), ("optim", OptimConfig),
                         ("trainer", TrainerConfig)):
            if type(getattr(self, key)) is not cls:
                raise ConfigError(f"{key} must be a {cls.__name__} for task={self.task} and "
                                  f"data.name={getattr(self.data, 'name', '?')}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunConfig:
        """Build and validate a config from a nested dict; missing keys take the defaults."""
        data = dict(data or {})
        for key in SECTIONS:
            if data.get(key) is not None and not isinstance(data[key], Mapping):
                raise ConfigError(f"section '{key}' must be a mapping of keys to values, got "
                                  f"{data[key]!r}")
        sections = {key: dict(data.get(key) or {}) for key in SECTIONS}
        source = sections["data"].setdefault("name", "mnist")
        if not isinstance(source, str):
            raise ConfigError(f"data.name must be a source name, got {source!r}")
        task = data.get("task", "auto")
        data_cls, model_cls, _ = section_classes(str(task), source)
        classes = {"data": data_cls, "model": model_cls, "optim": OptimConfig,
                   "trainer": TrainerConfig}
        built = {key: build_section(classes[key], sections[key], prefix=f"{key}.")
                 for key in SECTIONS}
        top = {k: v for k, v in data.items() if k not in SECTIONS}
        return build_section(cls, {**top, **built}, prefix="")  # checks the top-level keys


def load_config(
    path: str | Path | None = None, overrides: Iterable[Override] = ()
) -> RunConfig:
    """Defaults (the source's, under the sections'), then the YAML file at ``path`` (if any),
    then overrides (see :func:`~rnnkit.config.overrides.apply_overrides`).

    Raises:
        ConfigError: unknown key (the message lists the valid ones), bad type or value.
    """
    data: dict[str, Any] = read_yaml(path) if path is not None else {}
    try:
        return _load(data, list(overrides))
    except ConfigError as err:
        if path is None:
            raise
        raise ConfigError(f"{path} with the command line: {err}") from None


def _load(data: dict[str, Any], overrides: list[Override]) -> RunConfig:
    from rnnkit.data.registry import source_config

    merged = apply_overrides(data, overrides)
    # The budget is epochs or steps. The command line has the last word: trainer.epochs given
    # there (not trainer.steps) means a budget in epochs; both there is a contradiction.
    given = {override_key(o) for o in overrides}
    if {"trainer.epochs", "trainer.steps"} <= given:
        raise ConfigError("trainer.epochs and trainer.steps both set the budget; give one")
    if "trainer.epochs" in given:
        overrides.append(("trainer.steps", 0))
    source = (merged.get("data") or {}).get("name", "mnist")
    task = merged.get("task", "auto")
    if not isinstance(source, str) or not isinstance(task, str):
        return RunConfig.from_dict(merged)  # the message names the bad value
    family = section_classes(task, source)[2]
    defaults = source_config(source).defaults(family)
    if "epochs" in (data.get("trainer") or {}) and "steps" not in data["trainer"]:
        defaults = _merge(defaults, {"trainer": {"steps": 0}})  # a recipe in epochs
    return RunConfig.from_dict(apply_overrides(_merge(defaults, data), overrides))


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, section by section."""
    result = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result
