"""ChatMol: conversational molecule design checked by RDKit (Zeng et al., arXiv 2306.11976).

Generated multi-turn design dialogues whose requirements are RDKit facts (functional groups, rings,
bucketised logP/TPSA/MolWt, ...), a tiny T5 trained from a config (knowledge pre-training, then
dialogue fine-tuning, self-fed history at test time), baselines (random, TF-IDF retrieval,
constraint-filter oracle) and the MolT5 metric suite plus the requirement-satisfaction rate. The
facade :class:`ChatMol` runs each stage as a resumable step of a run folder.
"""

from ennead.core.lazy import lazy_getattr

__all__ = ["ChatMol", "ChatMolConfig"]
__getattr__ = lazy_getattr(
    __name__, {"ChatMol": "ennead.chatmol.api", "ChatMolConfig": "ennead.chatmol.config"}
)
