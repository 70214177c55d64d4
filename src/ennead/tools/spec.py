"""Registration of the tool-learning system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="tools",
    summary="Tool learning: offline tools, MCP server, ReAct/native/DFSDT agents, ToolEval",
    cli="ennead.tools.cli:app",
    claims="ennead.tools.claims:claims",
    extra="tools",
    paper=(
        "Qin et al. Tool Learning with Foundation Models. ACM Computing Surveys 2024, "
        "arXiv:2304.08354; Qin et al. ToolLLM (ToolBench, DFSDT), ICLR 2024, arXiv:2307.16789."
    ),
    tags=("agents", "tools", "mcp"),
)
