"""Registration of the SQE system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="sqe",
    summary="SQE: tracker quality without ground truth, tracker self-optimisation, GT check",
    cli="ennead.sqe.cli:app",
    demo="ennead.sqe.api:tour_demo",
    claims="ennead.sqe.claims:claims",
    extra="sqe",
    paper=(
        "Huang, Zhu, Zeng, Qiu, Shen, Wu. SQE: a Self Quality Evaluation Metric for Parameters "
        "Optimization in Multi-Object Tracking. CVPR 2020, arXiv:2004.07472."
    ),
    tags=("tracking", "mot", "evaluation", "optimisation"),
)
