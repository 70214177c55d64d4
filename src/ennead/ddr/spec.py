"""Registration of the DDR system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="ddr",
    summary="DDR: RAG pipeline (retriever, V_KR judge, V_Gen) with Differentiable Data Rewards",
    cli="ennead.ddr.cli:app",
    demo="ennead.ddr.synthetic:tour_demo",
    claims="ennead.ddr.claims:claims",
    extra="ddr",
    paper=(
        "Li et al. RAG-DDR: Optimizing Retrieval-Augmented Generation Using Differentiable Data "
        "Rewards. ICLR 2025, arXiv:2410.13509."
    ),
    tags=("rag", "dpo", "retrieval"),
)
