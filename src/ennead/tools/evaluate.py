"""Running the suite and scoring it: pass rate, BFCL-style selection/argument accuracy, ToolEval.

``run_suite`` runs one agent with one policy over tasks (a fresh workspace and registry per task)
and returns per-task records; ``summarize`` turns them into metrics (0-1 unless the name says
otherwise). ToolEval's pass label and win rate are re-implemented with the deterministic checker in
place of the LLM judge (``is_passed`` keeps ToolEval's full truth table, Unsure included).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ennead.tools.agents import CONTROL, Trace, run_dfsdt, run_hierarchical, run_react
from ennead.tools.policies import Policy
from ennead.tools.tasks import Task, check
from ennead.tools.toolbox import CATEGORIES, build_registry

AnswerStatus = Literal["Solved", "Unsolved", "Unsure"]
TaskStatus = Literal["Solvable", "Unsolvable", "Unsure"]


def is_passed(answer: AnswerStatus, task: TaskStatus, rng: random.Random | None = None) -> bool:
    """ToolEval's pass label; Unsure is a coin flip (``rng``; default seeded 0)."""
    if answer == "Solved":
        return True
    if task == "Unsolvable":
        return True
    if answer == "Unsolved" and task == "Solvable":
        return False
    return (rng or random.Random(0)).random() < 0.5


def win(cand: dict[str, Any], ref: dict[str, Any]) -> float:
    """1 win, 0 loss, 0.5 tie: pass labels first, then fewer tool calls (ToolEval's cost criterion;
    the LLM preference between two passing answers is not re-implemented)."""
    if cand["passed"] != ref["passed"]:
        return 1.0 if cand["passed"] else 0.0
    if cand["tool_calls"] != ref["tool_calls"]:
        return 1.0 if cand["tool_calls"] < ref["tool_calls"] else 0.0
    return 0.5


def retrieve_tools(reg: Any, query: str, k: int) -> list[str]:
    """The ``k`` tools whose name and description best match ``query`` (BM25: BMTools' retriever
    idea with a lexical index instead of embeddings), plus finish and give_up."""
    from ennead.core.retrieval.bm25 import BM25Index

    docs = [
        {"id": t.name, "title": t.name.replace("_", " "), "text": t.description}
        for t in reg.tools.values()
        if t.name not in CONTROL
    ]
    hits = BM25Index.build(docs).search(query, k)
    return [h.doc.id for h in hits] + [c for c in CONTROL if c in reg]


def run_task(
    policy: Policy,
    task: Task,
    agent: str = "react",
    max_steps: int = 8,
    budget: int = 24,
    width: int = 2,
    observer: Any = None,
    registry_factory: Callable[..., Any] | None = None,
    max_output_chars: int = 2000,
    tool_timeout_s: float = 5.0,
    retrieve_k: int = 0,
) -> tuple[Trace, bool]:
    with tempfile.TemporaryDirectory(prefix="ennead-tools-ws-") as ws:
        reg = (registry_factory or build_registry)(
            ws, max_output_chars=max_output_chars, timeout_s=tool_timeout_s
        )
        if retrieve_k:
            reg = reg.subset(retrieve_tools(reg, task.instruction, retrieve_k))
        if agent == "react" or agent == "native":
            tr = run_react(policy, reg, task.id, task.instruction, max_steps, budget, observer)
        elif agent == "dfsdt":
            tr = run_dfsdt(
                policy, reg, task.id, task.instruction, max_steps, budget, width, observer
            )
        elif agent == "hierarchical":
            tr = run_hierarchical(
                policy, reg, task.id, task.instruction, CATEGORIES, max_steps, budget, observer
            )
        else:
            from ennead.core.errors import ConfigError

            raise ConfigError(
                f"unknown agent {agent!r}; allowed: react, native, dfsdt, hierarchical"
            )
        tr.agent = agent
        # only an explicit give_up is a refusal: running out of steps or budget is no answer
        # (ToolEval fails a run whose last step is not Finish, solvable task or not)
        passed = check(task, tr.answer, tr.status == "give_up", ws)
    return tr, passed


def record(task: Task, tr: Trace, passed: bool, known: Sequence[str]) -> dict[str, Any]:
    calls = [s for s in (tr.chain() or tr.steps) if s.action.tool not in CONTROL]
    all_calls = [s for s in tr.steps if s.action.tool not in CONTROL]
    gold = task.gold_calls
    first = calls[0] if calls else None
    sel = None if not gold else float(first is not None and first.action.tool == gold[0][0])
    arg = (
        None
        if not gold
        else float(
            first is not None
            and first.action.tool == gold[0][0]
            and first.action.args == gold[0][1]
        )
    )
    if not gold:  # unsolvable without tools: the right "selection" is no call at all
        sel = float(not all_calls)
    return {
        "task": task.id,
        "template": task.template,
        "split": task.split,
        "kind": task.kind,
        "passed": passed,
        "status": tr.status,
        "answer": tr.answer,
        "policy_calls": tr.policy_calls,
        "tool_calls": tr.tool_calls,
        "steps": len(tr.steps),
        "selection": sel,
        "arguments": arg,
        "hallucinated": sum(
            s.action.tool not in known and s.action.tool != "__format__" for s in tr.steps
        ),
        "errors": sum(s.status != "ok" for s in tr.steps),
    }


def run_suite(
    policy: Policy,
    tasks: Sequence[Task],
    agent: str = "react",
    max_steps: int = 8,
    budget: int = 24,
    width: int = 2,
    traces: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> list[dict[str, Any]]:
    known = build_registry(None).names()
    out = []
    for t in tasks:
        tr, passed = run_task(policy, t, agent, max_steps, budget, width, **kw)
        out.append(record(t, tr, passed, known))
        if traces is not None:
            traces.append(tr.to_dict() | {"passed": passed})
    return out


def _mean(xs: Sequence[float | None]) -> float:
    v = [x for x in xs if x is not None]
    return sum(v) / len(v) if v else float("nan")


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    if not records:
        return {}
    n = len(records)
    return {
        "pass_rate": _mean([r["passed"] for r in records]),
        "selection_acc": _mean([r["selection"] for r in records]),
        "argument_acc": _mean([r["arguments"] for r in records]),
        "policy_calls": sum(r["policy_calls"] for r in records) / n,
        "tool_calls": sum(r["tool_calls"] for r in records) / n,
        "steps": sum(r["steps"] for r in records) / n,
        "hallucinated_per_task": sum(r["hallucinated"] for r in records) / n,
        "tasks": float(n),
    }


def by(records: Sequence[dict[str, Any]], key: str) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(str(r[key]), []).append(r)
    return {k: summarize(v) for k, v in sorted(groups.items())}


def win_rate(cand: Sequence[dict[str, Any]], ref: Sequence[dict[str, Any]]) -> float:
    refs = {r["task"]: r for r in ref}
    scores = [win(c, refs[c["task"]]) for c in cand if c["task"] in refs]
    return _mean(scores)
