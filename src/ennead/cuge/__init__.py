"""CUGE: a hierarchical Chinese language benchmark with multi-level scoring and a leaderboard.

>>> from ennead.cuge import CUGE, CUGEConfig
>>> CUGE(CUGEConfig(benchmark="cuge")).benchmark().counts()["datasets"]
21
"""

from ennead.cuge.api import CUGE
from ennead.cuge.config import CUGEConfig

__all__ = ["CUGE", "CUGEConfig"]
