"""The family a run trains, and its task built after the checks that nothing is too big."""

from __future__ import annotations

from rnnkit.config import ConfigError, RunConfig
from rnnkit.data.info import DataInfo
from rnnkit.data.registry import source_config
from rnnkit.families import get_family
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.runs.guards import check_model_memory

__all__ = ["new_task", "resolve_family"]


def resolve_family(task: str, info: DataInfo) -> TaskFamily:
    """The family ``task`` names, or for ``auto`` the one the data's labels call for; checked
    against the data (a family that needs numeric targets gets numeric targets)."""
    if task == "auto":
        choices = source_config(info.source).AUTO_FAMILY
        if info.targets not in choices:
            raise ConfigError(f"the {info.source} data have no family for their "
                              f"{info.targets}; set task")
        task = choices[info.targets]
    family = get_family(task)
    family.check_data(info)
    return family


def new_task(family: TaskFamily, config: RunConfig, info: DataInfo, *,
             fresh: bool = False) -> FamilyTask:
    """``family``'s task for ``info``'s data, after the memory check."""
    check_model_memory(family, config, info)
    return family.build(config, info, fresh=fresh)
