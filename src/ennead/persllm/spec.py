"""Registration of the PersLLM system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="persllm",
    summary="PersLLM: a persona trained into the weights (SFT + automatic DPO, life stages)",
    cli="ennead.persllm.cli:app",
    claims="ennead.persllm.claims:claims",
    extra="persllm",
    paper=(
        "Zeng et al. PersLLM: A Personified Training Approach for Large Language Models. "
        "EMNLP 2025 Findings, arXiv:2407.12393."
    ),
    tags=("persona", "sft", "dpo", "role-play"),
)
