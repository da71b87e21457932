"""Command-line overrides of a config: ``section.key=value`` (YAML values) or (key, value)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from rnnkit.config.section import ConfigError

__all__ = ["SECTIONS", "TOP_KEYS", "Override", "apply_overrides", "override_key"]

SECTIONS = ("data", "model", "optim", "trainer")
TOP_KEYS = ("name", "out", "task", *SECTIONS)


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"an override must look like section.key=value, got {item!r}")
    key, _, text = item.partition("=")
    key = key.strip()
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse the value of override {item!r}: {err}") from None
    return key.split("."), value


Override = str | tuple[str, Any]  # "section.key=value" or ("section.key", value)


def override_key(override: Override) -> str:
    """The ``section.key`` an override sets."""
    if isinstance(override, tuple):
        return override[0]
    return override.partition("=")[0].strip()


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[Override]) -> dict[str, Any]:
    """Return a copy of the nested dict ``config`` with overrides applied.

    An override is ``"section.key=value"``, whose value is parsed as YAML (``true``, ``0.1``,
    ``null``, ``[0, 1]``), or a pair ``("section.key", value)`` taken as is (for paths).
    Keys are checked when the result is turned into a :class:`RunConfig`.
    """
    result = {k: dict(v) if isinstance(v, Mapping) else v for k, v in config.items()}
    for item in overrides:
        if isinstance(item, tuple):
            path, value = item[0].split("."), item[1]
            item = f"{item[0]}={value}"
        else:
            path, value = _parse_override(item)
        if len(path) == 1:
            if path[0] in SECTIONS:
                raise ConfigError(
                    f"override {item!r} names a whole section; use {path[0]}.KEY=VALUE"
                )
            result[path[0]] = value
        elif len(path) == 2 and path[0] in SECTIONS:
            section = result.setdefault(path[0], {})
            if section is None:  # `model:` with nothing under it in a YAML file
                section = result[path[0]] = {}
            if not isinstance(section, dict):
                raise ConfigError(f"section '{path[0]}' must be a mapping, got {section!r}")
            section[path[1]] = value
        else:
            raise ConfigError(
                f"unknown config key '{'.'.join(path)}'; valid keys at the top level: "
                f"{', '.join(TOP_KEYS)} (sections: {', '.join(SECTIONS)})"
            )
    return result
