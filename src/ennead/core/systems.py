"""The registry of systems. Each system package registers a :class:`SystemSpec`.

Systems declare themselves through the ``ennead.systems`` entry-point group in pyproject (value
``ennead.<system>.spec:SPEC``), so core never imports a system and third-party systems plug in the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ennead.core.registry import Registry


@dataclass(frozen=True)
class SystemSpec:
    """What the CLI and the tour need to know about a system, without importing it."""

    name: str
    summary: str
    cli: str  # "module:attr" of the Typer sub-app; that module must import no torch
    demo: str | None = None  # "module:attr" of ``demo(run_dir) -> dict`` (older tour sections)
    extra: str | None = None  # the pip extra that installs its dependencies
    paper: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    # "module:attr" of ``claims(run_dir, quick: bool) -> ClaimsSection`` (ennead.core.claims):
    # the paper's claims measured at the smallest size where they show; the tour prefers it
    claims: str | None = None


systems: Registry[Any] = Registry("system", "ennead.systems")


def get_system(name: str) -> SystemSpec:
    spec = systems.get(name)
    if not isinstance(spec, SystemSpec):
        raise TypeError(
            f"system {name!r} did not register a SystemSpec (got {type(spec).__name__})"
        )
    return spec
