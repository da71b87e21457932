"""Typed run configuration: frozen dataclass sections, YAML files and command-line overrides.

``RunConfig`` (:mod:`rnnkit.config.run`) holds one section per component; ``task`` picks the
family's ``model:`` section and ``data.name`` the source's ``data:`` section. A YAML file lists
only what differs from the defaults; ``--set section.key=value`` overrides it. Every value is
checked when a config is built, and an unknown key is an error that lists the valid keys of its
section. The resolved config is saved as ``config.yaml`` in every run directory and, as a plain
dict, in every checkpoint.
"""

from rnnkit.config.overrides import Override, apply_overrides, override_key
from rnnkit.config.run import RunConfig, load_config, section_classes
from rnnkit.config.section import ConfigError, DataSection, Section, build_section, option
from rnnkit.config.sections import OptimConfig, TrainerConfig
from rnnkit.config.yaml_io import read_yaml, save_config

__all__ = [
    "ConfigError",
    "DataSection",
    "OptimConfig",
    "Override",
    "RunConfig",
    "Section",
    "TrainerConfig",
    "apply_overrides",
    "build_section",
    "load_config",
    "option",
    "override_key",
    "read_yaml",
    "save_config",
    "section_classes",
]
