"""ObjExist: robotic object existence prediction with occlusion reasoning (Li et al., IROS 2021,
arXiv 2107.12095), on a NumPy ray-cast tabletop that needs no simulator download.

``ObjExist(config).train()`` learns the agent over the paper's curriculum and its baselines;
``ObjExist().make_env()`` gives the Gymnasium env ``ennead/ObjExist-v0``.

>>> from ennead.objexist import ObjExist, ObjExistConfig
>>> ObjExist(ObjExistConfig()).config.sim.max_moves
6
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["ObjExist", "ObjExistConfig"]
__getattr__ = lazy_getattr(
    __name__, {"ObjExist": "ennead.objexist.api", "ObjExistConfig": "ennead.objexist.config"}
)
