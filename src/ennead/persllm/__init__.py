"""PersLLM: personality put into a chat model's weights (Zeng et al., EMNLP 2025 Findings,
arXiv 2407.12393).

Persona materials (``materials``) -> personified data from a teacher (``build``) -> SFT with
stage tokens, then automatic DPO (``train``) -> offline evaluation (``evaluate``). The facade
:class:`PersLLM` runs each as a resumable stage of a run folder; ``world`` is the controlled
world of the CI claim.
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["PersLLM", "PersLLMConfig"]
__getattr__ = lazy_getattr(
    __name__, {"PersLLM": "ennead.persllm.api", "PersLLMConfig": "ennead.persllm.config"}
)
