"""Registration of the ChatMol system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="chatmol",
    summary="ChatMol: conversational molecule design (tiny T5, knowledge pre-training, RDKit)",
    cli="ennead.chatmol.cli:app",
    claims="ennead.chatmol.claims:claims",
    extra="chatmol",
    paper=(
        "Zeng et al. Interactive Molecular Discovery with Natural Language. arXiv:2306.11976, 2023."
    ),
    tags=("chemistry", "t5", "dialogue", "rdkit"),
)
