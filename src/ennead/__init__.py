"""ennead: nine research systems as installable, tested, scalable software.

Importing this package stays light (no torch); heavy parts load when first used.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("ennead")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
