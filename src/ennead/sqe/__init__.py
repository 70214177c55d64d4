"""SQE: score multi-object tracking output without ground truth and tune trackers with it.

>>> from ennead.sqe import SQE, SQEConfig
>>> SQE(SQEConfig()).config.metric.k1
1.0
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["SQE", "SQEConfig"]
__getattr__ = lazy_getattr(__name__, {"SQE": "ennead.sqe.api", "SQEConfig": "ennead.sqe.config"})
