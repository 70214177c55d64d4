"""Registration of the ConPET system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="conpet",
    summary="ConPET: continual LoRA tuning (Static: dynamic replay; Dynamic: per-task LoRA)",
    cli="ennead.conpet.cli:app",
    claims="ennead.conpet.claims:claims",
    extra="conpet",
    paper=(
        "Song et al. ConPET: Continual Parameter-Efficient Tuning for Large Language Models. "
        "arXiv:2309.14763, 2023."
    ),
    tags=("continual-learning", "lora", "peft", "replay"),
)
