"""Registries by name: a table of packages, each with the modules a registry entry needs."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType

from rnnkit.config.section import ConfigError

__all__ = ["entry_module"]


def entry_module(table: Mapping[str, str], name: str, part: str, key: str) -> ModuleType:
    """The module ``part`` of the package registered as ``name`` in ``table``.

    Raises:
        ConfigError: ``name`` is not registered; the message lists the names ``key`` (the
            config key that names an entry) may take.
    """
    if name not in table:
        raise ConfigError(f"{key} must be one of {', '.join(table)}; got {name!r}")
    return importlib.import_module(f"{table[name]}.{part}")
