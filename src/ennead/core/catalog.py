"""What is registered: systems, backends, metrics, embedders (names and one-line summaries only)."""

from __future__ import annotations

import importlib
from typing import Any

# (label, module holding the registry, attribute); modules are light and import no torch.
_REGISTRIES = (
    ("systems", "ennead.core.systems", "systems"),
    ("backends", "ennead.core.backends", "backends"),
    ("metrics", "ennead.core.eval.metrics", "metrics"),
    ("embedders", "ennead.core.retrieval.embedders", "embedders"),
)


def catalog() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for label, module, attr in _REGISTRIES:
        try:
            registry = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        rows = []
        for name in registry.names():
            meta = registry.meta(name)
            summary = meta.get("summary", "")
            # Systems and plugin entries (entry points) carry their summary on the object itself.
            if label == "systems" or not summary:
                try:
                    summary = (getattr(registry.get(name), "summary", "") or "").strip()
                except Exception as exc:  # a broken plugin must not hide the others
                    summary = f"(cannot load: {exc})"
            rows.append({"name": name, "summary": summary})
        out[label] = rows
    return out
