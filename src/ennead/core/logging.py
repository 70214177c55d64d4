"""Loggers and progress bars that stay quiet where nobody is watching."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_CONFIGURED = False


def is_rank_zero() -> bool:
    """True unless a distributed launcher says this is another rank."""
    for var in ("RANK", "LOCAL_RANK", "ACCELERATE_PROCESS_INDEX"):
        val = os.environ.get(var)
        if val not in (None, "", "0"):
            return False
    return True


def get_logger(name: str) -> logging.Logger:
    """A namespaced logger under ``ennead``; the CLI decides where records go."""
    if not name.startswith("ennead"):
        name = f"ennead.{name}"
    return logging.getLogger(name)


def setup_logging(level: int | str = logging.INFO) -> None:
    """Send ``ennead.*`` records to stderr via rich (called by the CLI, never on import)."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    from rich.logging import RichHandler

    root = logging.getLogger("ennead")
    root.setLevel(level if is_rank_zero() else logging.WARNING)
    handler = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    _CONFIGURED = True


def progress_enabled() -> bool:
    if os.environ.get("ENNEAD_PROGRESS") == "1":
        return is_rank_zero()
    return sys.stderr.isatty() and is_rank_zero()


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "working") -> Iterator[T]:
    """Iterate with a rich progress bar on a TTY at rank 0; plain iteration otherwise."""
    if not progress_enabled():
        yield from iterable
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
        console=None,
    ) as bar:
        task = bar.add_task(desc, total=total)
        for item in iterable:
            yield item
            bar.advance(task)
