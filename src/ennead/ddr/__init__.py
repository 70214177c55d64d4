"""DDR: a RAG pipeline trained end to end with Differentiable Data Rewards (Li et al., ICLR 2025,
arXiv 2410.13509).

The facade :class:`DDR` predicts (retriever -> V_KR -> V_Gen on any backend), evaluates, trains
both modules with DDR's rollouts and DPO as resumable stages of a run folder, and reopens a
trained run (``DDR.from_run``); every verb is also an ``ennead ddr`` command. Experiments:
``ddr.synthetic`` (the seeded synthetic world, the multi-seed claim ``run_claim`` and the tour
section) and ``ddr.wordnet`` (SmolLM2 on WordNet reverse-dictionary questions).
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["DDR", "DDRConfig"]
__getattr__ = lazy_getattr(__name__, {"DDR": "ennead.ddr.api", "DDRConfig": "ennead.ddr.config"})
