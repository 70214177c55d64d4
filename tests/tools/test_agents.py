import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ennead.tools.agents import run_dfsdt, run_hierarchical, run_react
from ennead.tools.cache import ResponseCache
from ennead.tools.evaluate import run_task
from ennead.tools.policies import (
    Action,
    LMPolicy,
    LoopPolicy,
    NoisyPolicy,
    RulePolicy,
    ScriptedPolicy,
    http_chat,
    parse_react,
)
from ennead.tools.tasks import build_suite, check, split
from ennead.tools.toolbox import CATEGORIES, build_registry

Q = "What is the capital of France?"
RIGHT = ("kg_query", {"subject": "France", "relation": "capital"})
WRONG = ("kg_query", {"subject": "Frnace", "relation": "capital"})


@pytest.fixture
def reg(tmp_path):
    return build_registry(tmp_path)


def test_react_runs_a_scripted_chain(reg):
    tr = run_react(ScriptedPolicy([RIGHT, ("finish", {"answer": "Paris"})]), reg, "t", Q)
    assert (tr.status, tr.answer, tr.policy_calls, tr.tool_calls) == ("finish", "Paris", 2, 1)
    assert [s.status for s in tr.steps] == ["ok", "ok"]


def test_dfsdt_recovers_from_a_failing_first_branch_with_the_expected_calls(reg):
    script = [WRONG, ("give_up", {}), RIGHT, ("finish", {"answer": "Paris"})]
    tr = run_dfsdt(ScriptedPolicy(script), reg, "t", Q, max_steps=4, budget=10, width=2)
    assert tr.status == "finish" and tr.answer == "Paris"
    # the give-up under the wrong call unwinds two levels: the root's second child is tried
    assert tr.policy_calls == 4 and tr.tool_calls == 2
    assert tr.path == [2, 3] and tr.steps[2].parent == -1 and tr.steps[1].parent == 0
    # with prune_back=1 the search retries under the wrong call instead
    one = run_dfsdt(ScriptedPolicy(script), reg, "t", Q, max_steps=4, budget=10, prune_back=1)
    assert one.status == "finish" and one.path == [0, 2, 3]
    # the same script through one ReAct chain ends at the first give-up
    react = run_react(ScriptedPolicy(script), reg, "t", Q)
    assert react.status == "give_up" and react.policy_calls == 2


def test_dfsdt_give_up_at_the_first_decision_ends_the_search(reg):
    tr = run_dfsdt(ScriptedPolicy([("give_up", {}), RIGHT]), reg, "t", Q, width=2)
    assert tr.status == "give_up" and tr.policy_calls == 1 and tr.path == [0]


def test_dfsdt_passes_sibling_actions_as_the_diversity_prompt(reg):
    seen = []

    class Spy:
        name = "spy"

        def act(self, ctx):
            seen.append([a.key() for a in ctx.avoid])
            return Action("kg_query", {"subject": f"x{len(seen)}", "relation": "capital"})

    tr = run_dfsdt(Spy(), reg, "t", Q, max_steps=1, width=3, budget=10)
    assert tr.status == "max_steps" and tr.policy_calls == 3
    k = 'kg_query({"relation": "capital", "subject": "x%d"})'
    assert seen == [[], [k % 1], [k % 1, k % 2]]


@pytest.mark.parametrize("agent", ["react", "dfsdt"])
def test_budget_and_max_steps_bound_an_endless_loop(reg, agent):
    if agent == "react":
        tr = run_react(LoopPolicy(), reg, "t", Q, max_steps=5, budget=50)
        assert tr.status == "max_steps" and tr.policy_calls == 5
    else:
        tr = run_dfsdt(LoopPolicy(), reg, "t", Q, max_steps=50, budget=7, width=2)
        assert tr.status == "budget" and tr.policy_calls == 7
    assert tr.answer is None


def test_fault_injection_ends_with_the_right_statuses(reg):
    script = [
        Action("kg_query", '{"subject": "France", "relation": '),  # malformed JSON
        Action("capital_lookup", {"country": "France"}),  # unknown tool
        Action("kg_query", {"subject": "France"}),  # missing argument
        Action("kg_query", {"subject": 5, "relation": "capital"}),  # wrong type
        RIGHT,
        ("finish", {"answer": "Paris"}),
    ]
    tr = run_react(ScriptedPolicy(script), reg, "t", Q, max_steps=8)
    assert [s.status for s in tr.steps] == [
        "bad_json",
        "unknown_tool",
        "bad_args",
        "bad_args",
        "ok",
        "ok",
    ]
    assert tr.status == "finish" and tr.answer == "Paris" and tr.tool_calls == 5


def test_a_policy_that_raises_is_an_observation(reg):
    class Broken:
        name = "broken"

        def act(self, ctx):
            raise RuntimeError("model server down")

    tr = run_react(Broken(), reg, "t", Q, max_steps=3)
    assert tr.status == "max_steps" and "model server down" in tr.steps[0].observation


def test_rule_policy_through_every_agent(tmp_path):
    task = next(t for t in build_suite() if t.template == "stock_fx" and t.id.endswith("00"))
    for agent in ("react", "dfsdt", "hierarchical"):
        tr, passed = run_task(RulePolicy(), task, agent)
        assert passed and tr.tool_calls == 3, agent
        assert tr.policy_calls == (7 if agent == "hierarchical" else 4), agent


def test_hierarchical_gives_the_sub_agent_only_its_group(reg):
    seen = []

    class Spy:
        name = "spy"

        def act(self, ctx):
            seen.append(sorted(ctx.tools.names()))
            return Action(*RIGHT) if len(seen) < 3 else Action("finish", {"answer": "Paris"})

    tr = run_hierarchical(Spy(), reg, "t", Q, CATEGORIES)
    assert tr.status == "finish" and len(seen[0]) == len(reg)
    assert seen[1] == sorted([*CATEGORIES["knowledge"], "finish", "give_up"])


def test_noisy_policy_is_seeded():
    tasks = list(split(build_suite(), "inst"))[:20]
    runs = [
        [run_task(NoisyPolicy(0.5, 0.5, seed), t, "react")[0].to_dict() for t in tasks]
        for seed in (1, 1, 2)
    ]
    assert runs[0] == runs[1] and runs[0] != runs[2]


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        (
            'Thought: look\nAction: kg_query\nAction Input: {"subject": "France", "relation": '
            '"capital"}\nObservation: Paris',
            "kg_query",
            {"subject": "France", "relation": "capital"},
        ),
        (
            'Thought:x\n  Action :  `calculator`\nAction Input: ```json\n{"expression": "1+1"}\n```'
            " and then more text",
            "calculator",
            {"expression": "1+1"},
        ),
        ("Action: finish\nAction Input: {bad json", "finish", "{bad json"),
        ("Thought: done\nFinal Answer: Paris", "finish", {"answer": "Paris"}),
        ("I think the answer is Paris.", "__format__", "I think the answer is Paris."),
        ("Action: file_list", "file_list", {}),
    ],
)
def test_parse_react(text, tool, args):
    a = parse_react(text)
    assert (a.tool, a.args) == (tool, args)


def test_tiny_model_through_react_never_crashes_and_is_cached(tmp_path):
    from ennead.core.backends import load_backend

    lm = load_backend("tiny", max_input_tokens=400)
    task = next(t for t in build_suite() if t.template == "capital")
    cache = ResponseCache(tmp_path / "c.sqlite")
    pol = LMPolicy(lm, cache, max_new_tokens=8)
    tr1, passed = run_task(pol, task, "react", max_steps=3, budget=3)
    assert not passed and tr1.status in ("max_steps", "budget", "give_up")
    assert cache.misses >= 1 and cache.hits == 0
    tr2, _ = run_task(LMPolicy(lm, cache, max_new_tokens=8), task, "react", max_steps=3, budget=3)
    assert cache.hits >= 1 and tr2.to_dict()["steps"] == tr1.to_dict()["steps"]


class _FakeOpenAI(BaseHTTPRequestHandler):
    """A loopback OpenAI-compatible server that answers with native tool calls."""

    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeOpenAI.requests.append(body)
        last = body["messages"][-1]["content"]
        if last.startswith("Observation: "):
            call = {"name": "finish", "arguments": json.dumps({"answer": last[13:]})}
        else:
            call = {"name": "kg_query", "arguments": json.dumps(RIGHT[1])}
        msg = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": call}],
        }
        data = json.dumps({"choices": [{"message": msg, "finish_reason": "tool_calls"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def test_native_tool_calls_against_a_loopback_server(tmp_path):
    srv = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}/v1"
        cache = ResponseCache(tmp_path / "c.sqlite")
        pol = LMPolicy(None, cache, native=True, client=http_chat(url), model="m")
        task = next(
            t for t in build_suite() if t.template == "capital" and "France" in t.instruction
        )
        tr, passed = run_task(pol, task, "dfsdt")
        assert passed and tr.answer == "Paris" and tr.policy_calls == 2
        sent = _FakeOpenAI.requests[0]
        assert sent["tool_choice"] == "auto" and {t["function"]["name"] for t in sent["tools"]} >= {
            "kg_query",
            "finish",
        }
        n = len(_FakeOpenAI.requests)
        run_task(LMPolicy(None, cache, native=True, client=http_chat(url), model="m"), task)
        assert len(_FakeOpenAI.requests) == n  # the rerun came from the cache
    finally:
        srv.shutdown()


def test_checker_truth():
    task = next(t for t in build_suite() if t.template == "weather_unknown")
    assert check(task, None, True) and not check(task, "21 C", False)
    assert check(task, "I cannot find data for that city", False)


@pytest.mark.parametrize("agent", ["react", "dfsdt"])
def test_running_out_of_steps_is_no_refusal(agent):
    # an unsolvable task passes only by refusing: looping until the step or call limit is a fail
    task = next(t for t in build_suite() if t.template == "weather_unknown")
    tr, passed = run_task(LoopPolicy(), task, agent, max_steps=3, budget=4)
    assert tr.status in ("max_steps", "budget") and not passed
    script = [Action("give_up", {"reason": "no data for that city"})]
    tr, passed = run_task(ScriptedPolicy(script), task, agent, max_steps=3, budget=4)
    assert tr.status == "give_up" and passed


def test_paper_preset_runs_against_a_loopback_server(tmp_path):
    """The paper preset's path (native tool calls, DFSDT, response cache) on the CPU."""
    from ennead.core.config import load_config
    from ennead.tools.api import Tools
    from ennead.tools.config import ToolsConfig

    srv = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}/v1"
        cfg = load_config(ToolsConfig, "paper", [f"policy.base_url={url}"], package="ennead.tools")
        res = Tools(cfg).run("What is the capital of France?", tmp_path)
        assert res.status == "finish" and res.answer == "Paris"
        assert (tmp_path / "responses.sqlite").is_file()
    finally:
        srv.shutdown()
