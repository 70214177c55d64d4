"""Tool learning (Qin et al. 2023; ToolBench/ToolLLM): offline tools, MCP, ReAct/DFSDT agents."""
