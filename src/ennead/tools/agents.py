"""The agent loops: ReAct (one chain), DFSDT (depth-first decision tree), hierarchical.

Every loop counts policy calls against ``budget`` and tool calls per chain against ``max_steps``,
executes through the registry (so a bad call becomes an observation, never an exception) and
returns a :class:`Trace` with every node, saved as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ennead.tools.policies import Action, Context, Policy, Step
from ennead.tools.registry import ToolRegistry

CONTROL = ("finish", "give_up")


@dataclass
class Trace:
    task_id: str
    instruction: str
    agent: str
    status: str  # finish | give_up | max_steps | budget
    answer: str | None
    steps: list[Step] = field(default_factory=list)
    policy_calls: int = 0
    tool_calls: int = 0
    path: list[int] = field(default_factory=list)  # node ids of the chain that ended the search

    @property
    def gave_up(self) -> bool:
        return self.status != "finish"

    def chain(self) -> list[Step]:
        by = {s.node: s for s in self.steps}
        return [by[n] for n in self.path if n in by]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "instruction": self.instruction,
            "agent": self.agent,
            "status": self.status,
            "answer": self.answer,
            "policy_calls": self.policy_calls,
            "tool_calls": self.tool_calls,
            "path": self.path,
            "steps": [s.to_dict() for s in self.steps],
        }


Observer = Callable[[Step], None]


class _Run:
    def __init__(
        self,
        policy: Policy,
        reg: ToolRegistry,
        task_id: str,
        instruction: str,
        budget: int,
        observer: Observer | None,
    ):
        self.policy, self.reg, self.budget, self.observer = policy, reg, budget, observer
        self.task_id, self.instruction = task_id, instruction
        self.steps: list[Step] = []
        self.calls = self.tool_calls = 0

    def act(self, history: list[Step], avoid: list[Action]) -> Action | None:
        if self.calls >= self.budget:
            return None
        self.calls += 1
        ctx = Context(self.task_id, self.instruction, self.reg, list(history), list(avoid))
        try:
            return self.policy.act(ctx)
        except Exception as e:  # a failing model is an observation, not a crash
            return Action("__error__", f"{type(e).__name__}: {e}")

    def execute(self, a: Action, parent: int) -> Step:
        if a.tool == "__format__":
            status, obs = (
                "bad_format",
                (
                    "[bad_format] could not find 'Action:' and 'Action "
                    "Input:' in the reply; answer in the ReAct format"
                ),
            )
        elif a.tool == "__error__":
            status, obs = "error", f"[error] the policy failed: {a.args}"
        else:
            self.tool_calls += a.tool not in CONTROL
            res = self.reg.call(a.tool, a.args)
            status, obs = res.status, res.observation()
        st = Step(a, status, obs, node=len(self.steps), parent=parent)
        self.steps.append(st)
        if self.observer is not None:
            self.observer(st)
        return st

    def trace(self, agent: str, status: str, answer: str | None, path: list[int]) -> Trace:
        return Trace(
            self.task_id,
            self.instruction,
            agent,
            status,
            answer,
            self.steps,
            self.calls,
            self.tool_calls,
            path,
        )


def _answer(st: Step) -> str:
    return st.observation if st.status == "ok" else ""


def run_react(
    policy: Policy,
    reg: ToolRegistry,
    task_id: str,
    instruction: str,
    max_steps: int = 8,
    budget: int = 24,
    observer: Observer | None = None,
) -> Trace:
    """One chain: act, observe, repeat until finish, give_up, ``max_steps`` or the budget."""
    run = _Run(policy, reg, task_id, instruction, budget, observer)
    history: list[Step] = []
    for _ in range(max_steps):
        a = run.act(history, [])
        if a is None:
            return run.trace("react", "budget", None, [s.node for s in history])
        st = run.execute(a, history[-1].node if history else -1)
        history.append(st)
        if a.tool == "finish" and st.status == "ok":
            return run.trace("react", "finish", _answer(st), [s.node for s in history])
        if a.tool == "give_up" and st.status == "ok":
            return run.trace("react", "give_up", None, [s.node for s in history])
    return run.trace("react", "max_steps", None, [s.node for s in history])


def run_dfsdt(
    policy: Policy,
    reg: ToolRegistry,
    task_id: str,
    instruction: str,
    max_steps: int = 8,
    budget: int = 24,
    width: int = 2,
    observer: Observer | None = None,
    prune_back: int = 2,
) -> Trace:
    """Depth-first search over a decision tree (ToolLLM's DFSDT, ``DFS_woFilter``).

    At each node up to ``width`` children are expanded one at a time; each new child is asked with
    the earlier siblings' actions as ``avoid`` (the diversity prompt). A leaf at ``max_steps`` (or
    a failed one) sends the search back one level: the next sibling is tried. A ``give_up`` sends
    it back ``prune_back`` levels (ToolBench's ``prune_back_length`` = 2: the decision *before* the
    give-up is retried); a give-up at the first decision ends the search. The first ``finish``
    ends it; the budget counts policy calls over the whole tree.
    """
    run = _Run(policy, reg, task_id, instruction, budget, observer)
    stop = 10**6
    ended: dict[str, Any] = {"budget": False, "give_up": None, "found": None}

    def dfs(history: list[Step]) -> int:  # how many levels to unwind
        tried: list[Action] = []
        for _ in range(width):
            a = run.act(history, tried)
            if a is None:
                ended["budget"] = True
                return stop
            tried.append(a)
            st = run.execute(a, history[-1].node if history else -1)
            chain = [*history, st]
            if a.tool == "finish" and st.status == "ok":
                ended["found"] = chain
                return stop
            if a.tool == "give_up" and st.status == "ok":
                ended["give_up"] = chain  # the refusal a failed search reports
                back = prune_back
            elif len(chain) >= max_steps:
                back = 1
            else:
                back = dfs(chain)
            if back > 1:
                return back - 1
        return 1

    dfs([])
    best = ended["found"]
    if best is not None:
        return run.trace("dfsdt", "finish", _answer(best[-1]), [s.node for s in best])
    status = "budget" if ended["budget"] else ("give_up" if ended["give_up"] else "max_steps")
    path = [s.node for s in ended["give_up"]] if ended["give_up"] else []
    return run.trace("dfsdt", status, None, path)


def run_hierarchical(
    policy: Policy,
    reg: ToolRegistry,
    task_id: str,
    instruction: str,
    categories: dict[str, tuple[str, ...]],
    max_steps: int = 8,
    budget: int = 24,
    observer: Observer | None = None,
) -> Trace:
    """BMTools' multi-tool agent: the top level picks a tool group (one pseudo-tool per group);
    a sub-agent that sees only that group's tools (plus finish/give_up) makes the concrete call.

    Costs two policy calls per step (group choice, then the call within the group).
    """
    run = _Run(policy, reg, task_id, instruction, budget, observer)
    group_of = {t: g for g, ts in categories.items() for t in ts}
    history: list[Step] = []
    for _ in range(max_steps):
        a = run.act(history, [])  # top level: which group?
        if a is None:
            return run.trace("hierarchical", "budget", None, [s.node for s in history])
        group = group_of.get(a.tool)
        if group is not None and group != "control":
            sub = reg.subset([*categories[group], *CONTROL])
            ctx_run = _Run(policy, sub, task_id, instruction, 1, None)
            b = ctx_run.act(history, [])
            run.calls += 1
            a = b if b is not None else a
        st = run.execute(a, history[-1].node if history else -1)
        history.append(st)
        if a.tool == "finish" and st.status == "ok":
            return run.trace("hierarchical", "finish", _answer(st), [s.node for s in history])
        if a.tool == "give_up" and st.status == "ok":
            return run.trace("hierarchical", "give_up", None, [s.node for s in history])
    return run.trace("hierarchical", "max_steps", None, [s.node for s in history])
