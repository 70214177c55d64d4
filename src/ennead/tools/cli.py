"""``ennead tools ls | call | serve-mcp | run | evaluate | traces | train | demo``."""

from __future__ import annotations

from typing import Any

from ennead.core.cli.common import JsonOpt, RunDirOpt, emit, system_app

app = system_app("Tool learning: offline tools, MCP server, ReAct/DFSDT agents, ToolEval.")


def _show(result: Any) -> None:
    print(", ".join(f"{k} {v:g}" for k, v in result.metrics.items()) + f"  run: {result.run_dir}")


@app.command()
def demo(out: RunDirOpt = None, as_json: JsonOpt = False) -> None:
    """Run the rule policy through ReAct on the test split."""
    from ennead.tools.api import Tools

    emit(Tools().demo(out), as_json, _show)
