"""CUGE: a hierarchical Chinese language benchmark with multi-level scoring and a leaderboard.

>>> from ennead.cuge import CUGE, CUGEConfig
>>> CUGE(CUGEConfig(benchmark="cuge")).benchmark().counts()["datasets"]
21
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["CUGE", "CUGEConfig"]
__getattr__ = lazy_getattr(
    __name__, {"CUGE": "ennead.cuge.api", "CUGEConfig": "ennead.cuge.config"}
)
