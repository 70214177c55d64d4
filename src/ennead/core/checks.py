"""Checks of a user's input files, shared by every system's ``check`` verb and CLI.

:func:`input_file` and :func:`input_dir` turn a missing path, a folder where a file belongs, an
unreadable, empty or non-UTF-8 file into a :class:`DataError` that names the path (and line), before
any loader sees it. :func:`check_inputs` runs a system's loader over several files and collects
each file's problem as a :class:`CheckIssue` instead of stopping at the first.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError, EnneadError
from ennead.core.results import CheckIssue, CheckResult


def input_file(
    path: str | Path, what: str = "input file", *, text: bool = True, allow_empty: bool = False
) -> Path:
    """Check that ``path`` is a readable (UTF-8 text, non-empty) file; raise DataError naming it.

    Called before a verb runs so that a folder, a typo or an unreadable file is one clear line,
    not a traceback from deep inside a loader.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataError(f"{what} not found", path) from None
    except NotADirectoryError:
        raise DataError(f"{what} not found (a parent is not a folder)", path) from None
    except PermissionError:
        raise DataError(f"permission denied reading {what}", path) from None
    if path.is_dir():
        raise DataError(f"{what} is a folder; expected a file", path)
    if st.st_size == 0 and not allow_empty and path.is_file():
        raise DataError(f"{what} is empty", path)
    try:
        fh = path.open("rb")
    except PermissionError:
        raise DataError(f"permission denied reading {what}", path) from None
    if text:
        with fh:
            _check_utf8(fh, path, what)
    else:
        fh.close()
    return path


def _check_utf8(fh: Any, path: Path, what: str) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while chunk := fh.read(1 << 20):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            line += chunk[: exc.start].count(b"\n")
            raise DataError(f"{what} is not UTF-8 text", path, line) from None
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise DataError(f"{what} is not UTF-8 text (truncated at the end)", path, line) from None


def input_dir(path: str | Path, what: str = "folder") -> Path:
    """Check that ``path`` is an existing, readable folder; raise DataError naming it."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what} not found", path)
    if not path.is_dir():
        raise DataError(f"{what} is a file; expected a folder", path)
    if not os.access(path, os.R_OK | os.X_OK):
        raise DataError(f"permission denied reading {what}", path)
    return path


def check_inputs(
    paths: Iterable[str | Path], load: Callable[[Path], Any], what: str = "input file"
) -> CheckResult:
    """Validate each file with ``load`` (the loader the verbs use); collect, do not stop.

    A loader stops at a file's first problem, so each file contributes at most one issue.
    """
    result = CheckResult()
    for raw in paths:
        path = Path(raw)
        result.checked.append(str(path))
        try:
            load(input_file(path, what))
        except DataError as exc:
            result.issues.append(
                CheckIssue(path=exc.path or str(path), line=exc.line, message=exc.message)
            )
        except EnneadError as exc:
            result.issues.append(CheckIssue(path=str(path), message=strip_place(str(exc), path)))
    return result


def strip_place(message: str, path: str | Path) -> str:
    """``message`` without a leading ``<path>: `` (the issue names the path already)."""
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
