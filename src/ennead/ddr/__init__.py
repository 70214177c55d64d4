"""DDR: a RAG pipeline trained end to end with Differentiable Data Rewards (Li et al., ICLR 2025,
arXiv 2410.13509).

Ready: the pipeline (``DDR.predict``, ``ennead ddr predict``) and the building blocks of training
(records and loaders, prompts with token budgets, rewards, the knowledge-refinement and generation
agents, rollouts and preference pairs). Next (issue 3): the training stages, the synthetic-world
benchmark and the tour demo.
"""

__all__ = ["DDR", "DDRConfig"]
_EXPORTS = {"DDR": "ennead.ddr.api", "DDRConfig": "ennead.ddr.config"}


def __getattr__(name: str) -> object:
    # Lazy, so that `ennead --help` (which imports the CLI module) stays light.
    if name in __all__:
        import importlib

        module = importlib.import_module(_EXPORTS[name])
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
