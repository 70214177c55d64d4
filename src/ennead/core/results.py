"""Typed results that every facade verb returns.

A verb that runs work (train, evaluate, demo, ...) returns a :class:`RunResult` or a subclass:
the run folder it wrote, its headline metrics (floats, 0-1 unless the name says otherwise) and the
paths of what it made. Systems add their own fields in a subclass; the CLI prints any of them the
same way (``--json`` dumps the model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunResult(BaseModel):
    """What a facade verb did: where, what it measured, what it wrote."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    run_dir: Path | None = Field(
        None, description="the run folder the verb wrote (None: no folder)"
    )
    metrics: dict[str, float] = Field(default_factory=dict, description="headline numbers, by name")
    artifacts: dict[str, Path] = Field(
        default_factory=dict, description="files the verb wrote (report, plots, models), by name"
    )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict (paths as strings) for ``--json`` output and the tour."""
        return self.model_dump(mode="json")


class CheckIssue(BaseModel):
    """One problem found by a system's ``check`` verb in a user's input."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the file (or config key) the problem is in")
    line: int | None = Field(None, description="1-based line, when the problem has one")
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


class CheckResult(BaseModel):
    """What ``check`` found: each problem with its place; ``ok`` when there is none."""

    model_config = ConfigDict(extra="forbid")

    checked: list[str] = Field(default_factory=list, description="what was read")
    issues: list[CheckIssue] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues
