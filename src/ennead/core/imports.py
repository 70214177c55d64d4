"""Optional imports that fail with the pip line to fix them."""

from __future__ import annotations

import importlib
from types import ModuleType

from ennead.core.errors import MissingExtraError


def require(module: str, extra: str, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise MissingExtraError naming ``pip install 'ennead[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        # Only a missing package is a missing extra; a broken install should surface as is.
        if getattr(exc, "name", None) not in (module, top):
            raise
        raise MissingExtraError(module, extra, purpose) from exc
