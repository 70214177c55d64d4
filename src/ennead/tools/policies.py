"""Controllers: what picks the next tool call (rule, noisy-rule, scripted, language-model).

A policy sees the task's instruction, the tools on offer, the chain so far (:class:`Step`) and, in
DFSDT, the sibling actions already tried at this node (``avoid``: the diversity prompt), and
returns one :class:`Action` (a tool name and its arguments, a dict or the raw text the model wrote).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ennead.tools.registry import ToolRegistry
from ennead.tools.tasks import TEMPLATES, Template


@dataclass
class Action:
    tool: str
    args: Any  # dict, or the raw argument text (malformed JSON stays a string)
    thought: str = ""
    raw: str = ""

    def key(self) -> str:
        a = self.args if isinstance(self.args, str) else json.dumps(self.args, sort_keys=True)
        return f"{self.tool}({a})"


@dataclass
class Step:
    action: Action
    status: str
    observation: str
    node: int = 0
    parent: int = -1

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "parent": self.parent,
            "thought": self.action.thought,
            "tool": self.action.tool,
            "args": self.action.args,
            "raw": self.action.raw,
            "status": self.status,
            "observation": self.observation,
        }


@dataclass
class Context:
    task_id: str
    instruction: str
    tools: ToolRegistry
    history: list[Step] = field(default_factory=list)
    avoid: list[Action] = field(default_factory=list)


class Policy(Protocol):
    name: str

    def act(self, ctx: Context) -> Action: ...


class RulePolicy:
    """The reference controller: parses the instruction with the suite's known phrasings, runs
    the template's plan step by step from the observations, gives up on errors or unknown requests.
    """

    name = "rule"

    def __init__(self, templates: Sequence[Template] = TEMPLATES):
        self.templates = list(templates)
        pats = [(t, i) for t in self.templates for i in range(t.rule_phrasings) if t.steps]
        # the most specific phrasing first: "... on {date} in {cur}?" before "... on {date}?"
        pats.sort(key=lambda p: -len(re.sub(r"\{\w+\}", "", p[0].phrasings[p[1]])))
        self.patterns = [(t, t.pattern(i)) for t, i in pats]

    def parse(self, instruction: str) -> tuple[Template, dict[str, Any]] | None:
        for t, rx in self.patterns:
            m = rx.match(instruction.strip())
            if m:
                return t, dict(m.groupdict())
        return None

    def act(self, ctx: Context) -> Action:
        parsed = self.parse(ctx.instruction)
        if parsed is None:
            return Action(
                "give_up",
                {"reason": "no tool here fits this request"},
                "I cannot map this request to the available tools.",
            )
        t, slots = parsed
        obs: list[str] = []
        for st in ctx.history:
            if len(obs) >= len(t.steps):
                break
            want = t.steps[len(obs)](slots, obs)
            if st.status == "ok" and st.action.tool == want[0] and st.action.args == want[1]:
                obs.append(st.observation)
        if (
            ctx.history
            and ctx.history[-1].status != "ok"
            and _planned(t, slots, obs, ctx.history[-1])
        ):
            return Action(
                "give_up",
                {"reason": ctx.history[-1].observation[:200]},
                "The tool reported an error for the planned call; I cannot finish.",
            )
        if len(obs) < len(t.steps):
            name, args = t.steps[len(obs)](slots, obs)
            return Action(name, args, f"Step {len(obs) + 1}: call {name}.")
        return Action("finish", {"answer": t.answer(slots, obs)}, "I have got enough information.")


def _planned(t: Template, slots: dict[str, Any], obs: list[str], last: Step) -> bool:
    if len(obs) >= len(t.steps):
        return False
    want = t.steps[len(obs)](slots, obs)
    return last.action.tool == want[0] and last.action.args == want[1]


_FAKE_TOOLS = ("search_api", "get_answer", "lookup_database", "weather_api")


class NoisyPolicy:
    """The rule policy with seeded mistakes, a stand-in for an imperfect model.

    At each call, with probability ``error_rate`` the correct action is replaced by a mistake (a
    hallucinated tool name, malformed JSON, a missing argument or another tool); after an error
    observation the policy gives up with probability ``give_up_rate``. Draws are seeded by
    (seed, task, call number), so two agents see the same first chain; ``avoid`` (DFSDT's diversity
    prompt) keeps a retry from repeating a sibling's exact mistake.
    """

    name = "noisy"

    def __init__(self, error_rate: float = 0.3, give_up_rate: float = 0.5, seed: int = 0):
        self.rule = RulePolicy()
        self.error_rate, self.give_up_rate, self.seed = error_rate, give_up_rate, seed
        self._calls: dict[str, int] = {}

    def act(self, ctx: Context) -> Action:
        n = self._calls.get(ctx.task_id, 0)
        self._calls[ctx.task_id] = n + 1
        rng = random.Random(f"{self.seed}|{ctx.task_id}|{n}")
        good = self.rule.act(ctx)
        if good.tool == "give_up":
            return good
        if ctx.history and ctx.history[-1].status != "ok" and rng.random() < self.give_up_rate:
            return Action("give_up", {"reason": "the last call failed"}, "This is not working.")
        if good.tool == "finish" or rng.random() >= self.error_rate:
            return good
        avoid = {a.key() for a in ctx.avoid}
        for _ in range(8):
            kind = rng.randrange(4)
            if kind == 0:
                bad = Action(rng.choice(_FAKE_TOOLS), good.args)
            elif kind == 1:
                bad = Action(good.tool, json.dumps(good.args)[:-1] + ",")
            elif kind == 2:
                args = dict(good.args)
                if args:
                    args.pop(rng.choice(sorted(args)))
                bad = Action(good.tool, args)
            else:
                others = [t for t in ctx.tools.names() if t not in (good.tool, "finish", "give_up")]
                bad = Action(rng.choice(others), good.args)
            if bad.key() not in avoid and bad.key() != good.key():
                bad.thought = f"Step: call {bad.tool}."
                return bad
        return good


class ScriptedPolicy:
    """Returns the given actions in order (per task), then ``give_up``: for tests of the agents."""

    name = "scripted"

    def __init__(self, actions: Sequence[Action | tuple[str, Any]]):
        self.actions = [a if isinstance(a, Action) else Action(*a) for a in actions]
        self.i = 0

    def act(self, ctx: Context) -> Action:
        if self.i >= len(self.actions):
            return Action("give_up", {"reason": "script ended"})
        self.i += 1
        return self.actions[self.i - 1]


class LoopPolicy:
    """Never calls ``finish`` (fault injection: an endless loop)."""

    name = "loop"

    def act(self, ctx: Context) -> Action:
        return Action("calculator", {"expression": "1+1"}, "Let me check again.")


# ---------------------------------------------------------------- language-model policies (ReAct)

REACT_SYSTEM = (
    "Answer the user's request by calling tools. Tools:\n{tools}\n"
    "Reply in this format, one action at a time:\n"
    "Thought: what to do next\nAction: one tool name\nAction Input: a JSON object of arguments\n"
    'When you know the answer, use Action: finish with {{"answer": "..."}}. If the request '
    "cannot be done with these tools, use Action: give_up. Never write Observation yourself."
)
_ACTION = re.compile(r"Action\s*:\s*`?([A-Za-z_][\w.]*)`?", re.I)
_INPUT = re.compile(r"Action\s*Input\s*:\s*(.*)", re.I | re.S)


def parse_react(text: str) -> Action:
    """Thought / Action / Action Input from model text; tolerant of code fences and trailing text.

    A missing ``Action`` yields the pseudo-tool ``__format__`` (the agent reports a format error).
    """
    thought = ""
    m = re.search(r"Thought\s*:\s*(.*?)(?=Action\s*:|$)", text, re.I | re.S)
    if m:
        thought = m.group(1).strip()
    a = _ACTION.search(text)
    if a is None:
        fa = re.search(r"Final Answer\s*:\s*(.*)", text, re.I | re.S)
        if fa:
            return Action("finish", {"answer": fa.group(1).strip()}, thought, text)
        return Action("__format__", text.strip()[:200], thought, text)
    name = a.group(1)
    rest = _INPUT.search(text[a.end() :])
    if rest is None:
        return Action(name, {}, thought, text)
    raw = rest.group(1).strip()
    raw = re.sub(r"^```(?:json)?\s*|\s*```.*$", "", raw, flags=re.S)
    raw = raw.split("\nObservation")[0].strip()
    start = raw.find("{")
    if start >= 0:  # the first balanced JSON object; trailing text is ignored
        depth = 0
        for i, ch in enumerate(raw[start:], start):
            depth += ch == "{"
            depth -= ch == "}"
            if depth == 0:
                try:
                    return Action(name, json.loads(raw[start : i + 1]), thought, text)
                except json.JSONDecodeError:
                    break
    return Action(name, raw, thought, text)


def react_messages(ctx: Context) -> list[dict[str, str]]:
    msgs = [
        {"role": "system", "content": REACT_SYSTEM.format(tools=ctx.tools.react_text())},
        {"role": "user", "content": ctx.instruction},
    ]
    for st in ctx.history:
        args = st.action.args if isinstance(st.action.args, str) else json.dumps(st.action.args)
        text = f"Thought: {st.action.thought}\nAction: {st.action.tool}\nAction Input: {args}"
        if st.action.tool.startswith("__"):  # a reply that was not an action: show it as written
            text = st.action.raw or str(st.action.args)
        msgs.append({"role": "assistant", "content": text})
        msgs.append({"role": "user", "content": f"Observation: {st.observation}"})
    if ctx.avoid:  # DFSDT's diversity prompt
        tried = "; ".join(a.key() for a in ctx.avoid)
        msgs.append(
            {
                "role": "user",
                "content": f"These actions were tried here and failed: "
                f"{tried}. Do something different.",
            }
        )
    return msgs


class LMPolicy:
    """ReAct text over any core backend (tiny, smollm2, hf, openai, vllm), or native tool calls over
    an OpenAI-compatible server (``native=True``). Every response goes through ``cache``."""

    def __init__(
        self,
        lm: Any,
        cache: Any = None,
        max_new_tokens: int = 96,
        temperature: float = 0.0,
        native: bool = False,
        client: Any = None,
        model: str = "",
        seed: int = 0,
    ):
        self.lm, self.cache, self.native, self.client, self.model = lm, cache, native, client, model
        self.max_new_tokens, self.temperature, self.seed = max_new_tokens, temperature, seed
        self.name = "lm-native" if native else "lm-react"
        self.calls = 0

    def act(self, ctx: Context) -> Action:
        self.calls += 1
        msgs = react_messages(ctx)
        if self.native:
            return self._native(ctx, msgs)
        from ennead.core.backends.base import SamplingParams

        key = {
            "model": getattr(self.lm, "name", "lm"),
            "messages": msgs,
            "max_new_tokens": self.max_new_tokens,
            "t": self.temperature,
            "seed": self.seed,
        }
        text = self.cache.get(key) if self.cache is not None else None
        if text is None:
            params = SamplingParams(
                max_new_tokens=self.max_new_tokens,
                temperature=self.temperature,
                stop=["Observation:"],
                seed=self.seed,
            )
            prompt: Any = msgs if _has_chat(self.lm) else _flat(msgs)
            text = self.lm.generate([prompt], params)[0][0].text
            if self.cache is not None:
                self.cache.put(key, text)
        return parse_react(text)

    def _native(self, ctx: Context, msgs: list[dict[str, str]]) -> Action:
        tools = ctx.tools.openai_tools()
        payload = {
            "model": self.model,
            "messages": msgs,
            "tools": tools,
            "tool_choice": "auto",
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_new_tokens,
        }
        data = self.cache.get(payload) if self.cache is not None else None
        if data is None:
            msg = self.client(payload)["choices"][0]["message"]
            calls = [
                {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                for c in (msg.get("tool_calls") or [])
            ]
            data = json.dumps({"content": msg.get("content") or "", "calls": calls})
            if self.cache is not None:
                self.cache.put(payload, data)
        out = json.loads(data)
        if out["calls"]:
            c = out["calls"][0]
            args: Any = c["arguments"]
            if isinstance(args, str):
                # malformed JSON stays a string; the registry reports bad_json
                with contextlib.suppress(json.JSONDecodeError):
                    args = json.loads(args or "{}")
            return Action(c["name"], args, out["content"], data)
        return parse_react(out["content"])  # a server that answers in text: fall back to ReAct


def http_chat(base_url: str, api_key: str = "EMPTY", timeout: float = 120.0) -> Any:
    """A ``payload -> response JSON`` function for an OpenAI-compatible ``/chat/completions``."""
    import httpx

    client = httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=timeout,
        headers={"Authorization": f"Bearer {api_key}"},
    )

    def chat(payload: dict[str, Any]) -> dict[str, Any]:
        from ennead.core.errors import BackendError

        try:
            resp = client.post("/chat/completions", json=payload)
        except httpx.HTTPError as e:
            raise BackendError(f"{base_url}: {type(e).__name__}: {e}") from e
        if resp.status_code != 200:
            raise BackendError(f"{base_url}: HTTP {resp.status_code}: {resp.text[:200]}")
        return resp.json()  # type: ignore[no-any-return]

    return chat


def _has_chat(lm: Any) -> bool:
    tok = getattr(lm, "tokenizer", None)
    return bool(getattr(tok, "chat_template", None))


def _flat(msgs: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in msgs) + "\nThought:"
