"""Read and write mkdocs.yml keeping its tags, for the exported Zensical project.

``!ENV`` and ``!!python/...`` values (the slugify function of the toc extension) are kept
as they are written: Zensical resolves them itself when it reads the exported file, as
MkDocs does. ``INHERIT`` is resolved here (a deep merge, as MkDocs does it), so that the
exported file stands alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """mkdocs.yml cannot be read or has no usable shape."""


@dataclass(frozen=True, slots=True)
class Tagged:
    """A YAML value written with a tag that only the builder resolves."""

    tag: str
    value: Any

    def resolve_env(self) -> Any:
        """The value of an ``!ENV`` tag now: the first variable set, else the fallback."""
        if self.tag != "!ENV":
            raise ConfigError(f"{self.tag} cannot be resolved here")
        names = self.value if isinstance(self.value, list) else [self.value]
        for name in names[:-1] if len(names) > 1 else names:
            if isinstance(name, str) and name in os.environ:
                return os.environ[name]
        return names[-1] if len(names) > 1 else None


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps unknown tags as `Tagged` values."""


def _construct_tagged(loader: _Loader, tag_suffix: str, node: yaml.Node) -> Tagged:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return Tagged(node.tag, value)


_Loader.add_multi_constructor("!", _construct_tagged)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _construct_tagged)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes `Tagged` values back with their tag."""


def _represent_tagged(dumper: _Dumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


def _represent_str(dumper: _Dumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(Tagged, _represent_tagged)
_Dumper.add_representer(str, _represent_str)


def load_config(path: Path) -> dict[str, Any]:
    """mkdocs.yml at `path` with its ``INHERIT`` chain merged in, tags kept."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    config: dict[str, Any] = data
    parent = config.pop("INHERIT", None)
    if parent is not None:
        config = _merge(load_config((path.parent / str(parent)).resolve()), config)
    return config


def dump_config(data: dict[str, Any], header: str) -> str:
    """YAML text of `data` (tags kept), after a comment `header`."""
    body = str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100))
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + body


def resolve(value: Any) -> Any:
    """`value`, or what an ``!ENV`` tag gives now."""
    return value.resolve_env() if isinstance(value, Tagged) else value


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
