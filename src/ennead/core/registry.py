"""Lazy registries with did-you-mean errors and entry-point plugins.

A target is either an object or a ``"module:attr"`` string imported on first use, so that
listing names (``ennead ls``) never imports torch.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

from ennead.core.errors import EnneadError, UnknownNameError

T = TypeVar("T")


def load_target(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Named components of one kind (backends, metrics, systems, ...).

    Plugins from other distributions register through the entry-point group
    ``ennead.<kind>`` (for example ``ennead.backends``), loaded lazily on first lookup.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self.group = entry_point_group or f"ennead.{kind}s"
        self._targets: dict[str, str | T] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._plugins_loaded = False
        self._frozen = False
        self._lock = threading.RLock()

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, target: str | T, **meta: Any) -> None: ...

    def register(self, name: str, target: Any = None, **meta: Any) -> Any:
        """Register ``target`` under ``name``; without a target, act as a decorator."""
        if target is None:

            def deco(obj: T) -> T:
                self.register(name, obj, **meta)
                return obj

            return deco
        with self._lock:
            if self._frozen:
                raise EnneadError(f"the {self.kind} registry is frozen; cannot add {name!r}")
            existing = self._targets.get(name)
            # A lazy string being replaced by the object it points to is fine.
            replacing_lazy = isinstance(existing, str) and not isinstance(target, str)
            if existing is not None and existing != target and not replacing_lazy:
                raise EnneadError(f"{self.kind} {name!r} is already registered")
            self._targets[name] = target
            self._meta.setdefault(name, {}).update(meta)
        return None

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.group):
            if ep.name not in self._targets:
                self._targets[ep.name] = ep.value
                self._meta.setdefault(ep.name, {})["plugin"] = True

    def names(self) -> list[str]:
        with self._lock:
            self._load_plugins()
            return sorted(self._targets)

    def meta(self, name: str) -> dict[str, Any]:
        self._check(name)
        return dict(self._meta.get(name, {}))

    def _check(self, name: str) -> None:
        with self._lock:
            self._load_plugins()
            if name not in self._targets:
                raise UnknownNameError(self.kind, name, self._targets)

    def get(self, name: str) -> T:
        """Return the component, importing it on first use."""
        self._check(name)
        with self._lock:
            target = self._targets[name]
            if isinstance(target, str) and ":" in target:
                target = load_target(target)
                self._targets[name] = target
            return target  # type: ignore[return-value]

    def freeze(self) -> None:
        self._frozen = True

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
