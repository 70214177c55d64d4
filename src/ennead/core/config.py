"""Typed configs and their layering.

Order (later wins): the package preset YAML < a user YAML file < ``--set key.sub=value`` overrides.
Unknown keys are errors that name the key and list the allowed ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ennead.core.errors import ConfigError

C = TypeVar("C", bound="BaseConfig")


class BaseConfig(BaseModel):
    """Base of every ennead config: unknown keys are rejected, values validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _allowed_at(cls: type[BaseModel], loc: Sequence[Any]) -> list[str] | None:
    """Field names allowed at the parent of ``loc`` (for 'extra_forbidden' errors)."""
    model: Any = cls
    for part in loc[:-1]:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = field.annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(model.model_fields)
    return None


def validation_to_config_error(
    cls: type[BaseModel], exc: ValidationError, source: str | None = None
) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        key = ".".join(str(p) for p in loc) or "(root)"
        if err["type"] == "extra_forbidden":
            allowed = _allowed_at(cls, loc)
            msg = f"unknown key {key!r}"
            if allowed is not None:
                import difflib

                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                if close:
                    msg += f" (did you mean {close[0]!r}?)"
                msg += f"; allowed keys: {', '.join(allowed)}"
        else:
            msg = f"{key}: {err['msg']} (got {err.get('input')!r})"
        lines.append(msg)
    where = f"{source}: " if source else ""
    return ConfigError(f"{where}invalid {cls.__name__}: " + "; ".join(lines))


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse ``a.b=value``; the value is read as YAML so numbers, bools and lists work."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like key=value (for example train.lr=1e-4)")
    key, _, raw = item.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"override {item!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a repeated mapping key (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str) -> Any:
    """``yaml.safe_load`` that refuses duplicate keys (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass: safe


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    if path.is_dir():
        raise ConfigError(f"config {path} is a folder; expected a YAML file")
    try:
        data = load_yaml_text(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def _has_preset(package: str, name: str) -> bool:
    try:
        preset_path(package, name)
    except ConfigError:
        return False
    return True


def preset_path(package: str, name: str) -> Path:
    """Path of ``<package>/configs/<name>.yaml`` shipped as package data."""
    base = resources.files(package) / "configs"
    path = Path(str(base / f"{name}.yaml"))
    if not path.exists():
        known = sorted(p.stem for p in Path(str(base)).glob("*.yaml"))
        raise ConfigError(
            f"unknown preset {name!r} for {package}; known presets: {', '.join(known)}"
        )
    return path


def load_config(
    cls: type[C],
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    *,
    package: str | None = None,
    base: Mapping[str, Any] | None = None,
) -> C:
    """Build ``cls`` from layers.

    ``config`` is a preset name (``tiny``, ``default``, ``paper``) looked up in ``package``'s
    ``configs/`` folder, or a path to a user YAML file. A user YAML may say ``preset: tiny`` to
    start from a preset. ``overrides`` are ``key.sub=value`` strings applied last.
    """
    data: dict[str, Any] = dict(base or {})
    source = None
    if config is not None:
        text = str(config)
        path = Path(text)
        is_file = text.endswith((".yaml", ".yml")) or path.is_file()
        if path.is_dir() and not is_file:
            # a folder that happens to share a preset's name (``runs/tiny``) is not a config
            is_file = package is None or not _has_preset(package, text)
        if is_file:
            user = read_yaml(text)
            preset = user.pop("preset", None)
            if preset is not None:
                if package is None:
                    raise ConfigError(f"{text}: 'preset' is only allowed for system configs")
                data = _deep_merge(data, read_yaml(preset_path(package, str(preset))))
            data = _deep_merge(data, user)
            source = text
        else:
            if package is None:
                raise ConfigError(f"config {text!r} is neither a YAML file nor a known preset")
            data = _deep_merge(data, read_yaml(preset_path(package, text)))
            source = f"preset {text!r}"
    for item in overrides:
        keys, value = parse_override(item)
        node = data
        for k in keys[:-1]:
            nxt = node.get(k)
            if not isinstance(nxt, dict):
                nxt = {}
                node[k] = nxt
            node = nxt
        node[keys[-1]] = value
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(cls, exc, source) from None
