"""Registration of the Recsys system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="recsys",
    summary="Recsys: source-domain pre-training transferred to cold-start users (MovieLens + KG)",
    cli="ennead.recsys.cli:app",
    claims="ennead.recsys.claims:claims",
    extra="recsys",
    paper=(
        "Zeng, Xiao, Yao, Xie, Liu, Lin, Lin, Sun. Knowledge Transfer via Pre-training for "
        "Recommendation: A Review and Prospect. Frontiers in Big Data 4:602071 (2021), "
        "arXiv:2009.09226."
    ),
    tags=("recommendation", "pre-training", "transfer", "cold-start"),
)
