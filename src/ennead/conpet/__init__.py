"""ConPET: continual parameter-efficient tuning of a frozen LM (Song et al., arXiv 2309.14763).

A stream of label-incremental tasks (``stream``) trains one LoRA with the dynamic replay sampler
(Static ConPET) or one LoRA + head per task with a PET-module selector (Dynamic ConPET), next to
the baselines (sequential LoRA, unlimited replay, full fine-tuning, joint) in one harness. The
facade :class:`ConPET` runs each task as a resumable stage of a run folder.
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["ConPET", "ConPETConfig"]
__getattr__ = lazy_getattr(
    __name__, {"ConPET": "ennead.conpet.api", "ConPETConfig": "ennead.conpet.config"}
)
