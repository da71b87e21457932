"""Config files: YAML read strictly (a key given twice is an error), written atomically."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from rnnkit.atomic import write_text_atomic
from rnnkit.config.section import ConfigError

__all__ = ["read_yaml", "save_config"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (YAML lets the last win
    silently, so a recipe would not say what it does)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file as a dict (an empty file is an empty dict)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: expected UTF-8 text, found the byte "
                          f"0x{raw[err.start]:02x}") from None
    try:
        loader = _UniqueKeyLoader(text)
        loader.name = str(path)  # messages name the file, not "<unicode string>"
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def save_config(config: Any, path: str | Path, notes: Iterable[str] | None = None) -> None:
    """Write the resolved config as YAML (every key, sections in a fixed order), atomically;
    ``notes`` (why automatic values were chosen) become comment lines at the top."""
    text = yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=False)
    header = "".join(f"# {' '.join(note.split())}\n" for note in notes or ())
    write_text_atomic(path, header + text)
