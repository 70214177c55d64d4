"""Typed errors. Each says what was received and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class EnneadError(Exception):
    """Base of every error ennead raises on purpose."""


class ConfigError(EnneadError, ValueError):
    """A configuration value or key is not valid."""


class UnknownNameError(EnneadError, LookupError):
    """A name was looked up in a registry and is not there."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str | None = None):
        import difflib

        self.kind, self.name, self.known = kind, name, sorted(known)
        close = difflib.get_close_matches(name, self.known, n=3, cutoff=0.5)
        msg = f"unknown {kind} {name!r}"
        # "; did you mean 'x'?" or a full stop, so the list of known names starts a sentence
        msg += f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
        msg += f" Known: {', '.join(self.known) if self.known else '(none registered)'}."
        if hint:
            msg += f" {hint}"
        super().__init__(msg)


class MissingExtraError(EnneadError, ImportError):
    """An optional dependency is not installed; the message names the pip line."""

    def __init__(self, module: str, extra: str, purpose: str | None = None):
        self.module, self.extra = module, extra
        what = f"{purpose} needs" if purpose else "this feature needs"
        super().__init__(
            f"{what} the Python module {module!r}, which is not installed. "
            f"Install it with: pip install 'ennead[{extra}]'"
        )


class DataError(EnneadError, ValueError):
    """Input data is malformed; names the file and line where known."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path, self.line = (str(path) if path is not None else None), line
        self.message = message  # without the place, for one-line CLI errors
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        super().__init__(where + message)


class AssetError(EnneadError):
    """An embedded asset (model, data) cannot be found or prepared."""


class BackendError(EnneadError):
    """A language-model backend failed or was misused."""


class StageError(EnneadError):
    """A run stage is missing, incomplete or inconsistent."""
