"""DDR: a RAG pipeline trained end to end with Differentiable Data Rewards (Li et al., ICLR 2025,
arXiv 2410.13509).

Ready: the pipeline (``DDR.predict``, ``ennead ddr predict``) and the building blocks of training
(records and loaders, prompts with token budgets, rewards, the knowledge-refinement and generation
agents, rollouts and preference pairs). Next (issue 3): the training stages, the synthetic-world
benchmark and the tour demo.
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["DDR", "DDRConfig"]
__getattr__ = lazy_getattr(__name__, {"DDR": "ennead.ddr.api", "DDRConfig": "ennead.ddr.config"})
