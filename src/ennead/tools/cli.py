"""``ennead tools ls | call | serve-mcp | run | evaluate | traces | train | study | demo | report |
check | config``.

``study`` runs the embedded-model study (preset ``smollm2_study``).
``train`` builds solution traces (if missing), LoRA-tunes the student and evaluates it untuned and
tuned on the held-out tasks; ``traces`` only builds the traces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ennead.core.cli.common import (
    ConfigArg,
    JsonOpt,
    RunDirOpt,
    SetOpt,
    add_check_verb,
    add_report_verb,
    emit,
    file_opt,
    load_system_config,
    show_metrics,
    system_app,
)
from ennead.core.runs import default_run_path

app = system_app("Tool learning: offline tools, MCP server, ReAct/DFSDT agents, ToolEval.")


def _tools(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.tools.api import Tools
    from ennead.tools.config import ToolsConfig

    return Tools(load_system_config(ToolsConfig, config, overrides, package="ennead.tools"))


def _show(result: Any) -> None:
    show_metrics(result, "g")


@app.command()
def demo(out: RunDirOpt = None, as_json: JsonOpt = False) -> None:
    """The rule policy through ReAct on the 150 held-out tasks of the offline suite."""
    emit(_tools("tiny", None).demo(out), as_json, _show)


@app.command("ls")
def list_tools(
    config: ConfigArg = None, overrides: SetOpt = None, as_json: JsonOpt = False
) -> None:
    """List the tools with their signatures."""

    def show(r: Any) -> None:
        for t in r.tools:
            print(f"{t['category']:<10} {t['signature']}")

    emit(_tools(config, overrides).ls(), as_json, show)


@app.command()
def call(
    name: Annotated[str, typer.Argument(help="Tool name.")],
    config: ConfigArg = None,
    args: Annotated[str, typer.Option("--args", "-a", help="Arguments as one JSON object.")] = "{}",
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Call one tool; the result shows its status (ok, bad_args, unknown_tool, ...)."""
    emit(
        _tools(config, overrides).call(name, args),
        as_json,
        lambda r: print(f"[{r.status}] {r.output}"),
    )


@app.command("serve-mcp")
def serve_mcp(
    transport: Annotated[str, typer.Option(help="stdio or http (streamable HTTP).")] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8765,
    config: ConfigArg = None,
    overrides: SetOpt = None,
) -> None:
    """Serve every tool over MCP (stdio for MCP hosts, or streamable HTTP at /mcp)."""
    _tools(config, overrides).serve_mcp(transport, host, port)


@app.command()
def run(
    instruction: Annotated[str, typer.Argument(help="What to do, in words.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the configured agent on one instruction, showing each thought, call and observation."""

    def live(step: Any) -> None:
        if not as_json:
            a = step.action
            print(
                f"[{step.node}] Thought: {a.thought}\n    Action: {a.tool} {a.args}\n"
                f"    Observation ({step.status}): {step.observation[:300]}"
            )

    res = _tools(config, overrides).run(instruction, out, live)
    emit(res, as_json, lambda r: print(f"{r.status}: {r.answer}  trace: {r.artifacts['trace']}"))


@app.command()
def evaluate(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    data: Annotated[Path | None, file_opt("--data", "-d", help="Own tasks (JSONL).")] = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pass rate, selection/argument accuracy and calls on a split (or your own tasks)."""
    emit(_tools(config, overrides).evaluate(out, data), as_json, _show)


@app.command()
def judge(
    candidate: Annotated[Path, typer.Argument(help="An evaluated run folder (records.jsonl).")],
    reference: Annotated[Path, typer.Argument(help="The run it is compared with.")],
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="Judge model: a core backend (smollm2, ...).")
    ] = "smollm2",
    method: Annotated[
        str, typer.Option(help="generate (read A/B/tie) or loglikelihood (local backends).")
    ] = "generate",
    data: Annotated[
        Path | None, file_opt("--data", "-d", help="The tasks file both ran (default: the suite).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """ToolEval's win rate: pass labels first, an LLM judge where they agree (both orders)."""
    from ennead.core.backends import load_backend
    from ennead.tools.api import load_tasks
    from ennead.tools.judge import instructions_of, judged_win_rate
    from ennead.tools.tasks import build_suite

    tasks = load_tasks(data) if data is not None else list(build_suite())
    res = judged_win_rate(
        candidate, reference, load_backend(backend), instructions_of(tasks), method=method
    )
    emit(
        res,
        as_json,
        lambda r: print(
            f"win {r.win:.3f}  tie {r.tie:.3f}  loss {r.loss:.3f} over {r.tasks} tasks "
            f"({r.judged} judged; {r.unreadable} unreadable votes)"
        ),
    )


@app.command()
def traces(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Solution traces on the training tasks (DFSDT with the teacher), kept when they pass."""
    emit(_tools(config, overrides).traces(out), as_json, _show)


@app.command()
def train(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """LoRA SFT of the student on the traces; untuned vs tuned on held-out tasks."""
    emit(_tools(config, overrides).train(out), as_json, _show)


@app.command()
def study(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The embedded-model study: untuned vs LoRA-tuned model, ReAct vs DFSDT (smollm2_study)."""
    from ennead.tools.study import run_study

    cfg = _tools(config or "smollm2_study", overrides).config
    res = run_study(cfg, out or default_run_path("tools-study"))

    def show(r: Any) -> None:
        show_metrics(r, "g")
        print(r.verdict)

    emit(res, as_json, show)


add_report_verb(app, "ennead.tools.api:Tools", "A run folder (from evaluate or demo)")
add_check_verb(
    app, "ennead.tools.api:Tools", "ennead.tools.config:ToolsConfig", "Task files (JSONL)"
)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.tools.config import ToolsConfig

    cfg = load_system_config(ToolsConfig, config, overrides, package="ennead.tools")
    print(cfg.to_yaml(), end="")
