"""CUGE: a hierarchical Chinese language benchmark with multi-level scoring and a leaderboard.

>>> from ennead.cuge import CUGE, CUGEConfig
>>> CUGE(CUGEConfig(benchmark="cuge")).benchmark().counts()["datasets"]
21
"""

__all__ = ["CUGE", "CUGEConfig"]
_EXPORTS = {"CUGE": "ennead.cuge.api", "CUGEConfig": "ennead.cuge.config"}


def __getattr__(name: str) -> object:
    # Lazy, so that `ennead --help` (which imports the CLI module) stays light.
    if name in __all__:
        import importlib

        module = importlib.import_module(_EXPORTS[name])
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
