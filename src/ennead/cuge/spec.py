"""Registration of the CUGE system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="cuge",
    summary="CUGE: hierarchical Chinese benchmark, multi-level scoring, leaderboard service",
    cli="ennead.cuge.cli:app",
    demo="ennead.cuge.api:tour_demo",
    claims="ennead.cuge.claims:claims",
    extra="cuge",
    paper=(
        "Yao et al. CUGE: A Chinese Language Understanding and Generation Evaluation "
        "Benchmark. arXiv:2112.13610, 2021 (report updated 2022-04-14)."
    ),
    tags=("evaluation", "benchmark", "chinese", "leaderboard"),
)
