"""The CLI verbs and the facade: task files (file:line errors), evaluate, report, run, configs."""

from __future__ import annotations

import json

import pytest

from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import run_app
from ennead.core.config import load_config
from ennead.core.errors import DataError
from ennead.tools.api import Tools, load_tasks
from ennead.tools.config import ToolsConfig

GOOD = '{"id": "a", "instruction": "What is 2+2?", "checker": {"type": "number", "value": 4}}\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD + "{not json\n", 2, "not valid JSON"),
        (GOOD + '{"id": "b", "instruction": "x"}\n', 2, "missing required key 'checker'"),
        (GOOD + GOOD, 2, "duplicate id 'a' (first on line 1)"),
        ('{"id": "a", "instruction": "x", "checker": {"type": "exact"}}\n', 1, "checker.type"),
        (
            '{"id": "a", "instruction": "x", "checker": {"type": "number", "value": "4"}}\n',
            1,
            "must be a number",
        ),
        (
            '{"id": "a", "instruction": "x", "checker": {"type": "refuse"}, "tools": ["wether"]}\n',
            1,
            "unknown tools ['wether']",
        ),
        (
            '{"id": "a", "instruction": "x", "checker": {"type": "refuse"}, "kind": "easy"}\n',
            1,
            "kind must be one of",
        ),
        (
            '{"id": "a", "instruction": "x", "checker": {"type": "refuse"}, "answer": 1}\n',
            1,
            "unknown keys ['answer']",
        ),
        ("[1, 2]\n", 1, "must be a JSON object"),
    ],
)
def test_bad_task_files_name_file_and_line(tmp_path, text, line, message):
    p = tmp_path / "tasks.jsonl"
    p.write_text(text)
    with pytest.raises(DataError) as e:
        load_tasks(p)
    assert e.value.line == line and message in str(e.value) and str(p) in str(e.value)


def test_check_verb_reports_each_file(tmp_path, capsys):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(GOOD)
    bad.write_text(GOOD + "{oops\n")
    assert run_app(root_app, ["tools", "check", str(good), str(bad)]) == 2
    out = capsys.readouterr().out
    assert f"{bad}:2: not valid JSON" in out and str(good) + ":" not in out


def test_evaluate_own_tasks_report_and_json(tmp_path, capsys):
    data = tmp_path / "tasks.jsonl"
    data.write_text(
        '{"id": "q1", "instruction": "What is the capital of Japan?", '
        '"checker": {"type": "contains", "value": "Tokyo"}}\n'
        '{"id": "q2", "instruction": "Fly me to the moon.", "checker": {"type": "refuse"}}\n'
        '{"id": "q3", "instruction": "What is 3 * 7?", '
        '"checker": {"type": "number", "value": 21}}\n'
    )
    out = tmp_path / "run"
    code = run_app(root_app, ["tools", "evaluate", "-d", str(data), "-o", str(out), "--json"])
    res = json.loads(capsys.readouterr().out)
    assert code == 0 and res["metrics"]["pass_rate"] == pytest.approx(1.0)
    traces = [json.loads(x) for x in (out / "traces.jsonl").read_text().splitlines()]
    assert [t["status"] for t in traces] == ["finish", "give_up", "finish"]
    assert run_app(root_app, ["tools", "report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "pass_rate" in html


def test_evaluate_a_split_with_every_agent(tmp_path):
    for agent in ("react", "dfsdt", "hierarchical"):
        cfg = ToolsConfig.model_validate({"split": "cat", "limit": 10, "agent": {"kind": agent}})
        res = Tools(cfg).evaluate(tmp_path / agent)
        assert res.metrics["tasks"] == 10 and res.metrics["pass_rate"] == pytest.approx(0.8), agent
        assert res.by_split["cat"]["selection_acc"] == pytest.approx(0.8)


def test_run_shows_each_step_live(tmp_path, capsys):
    code = run_app(root_app, ["tools", "run", "Translate 'book' into German.", "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "Action: translate" in out and "Observation (ok): Buch" in out
    assert out.strip().endswith(f"trace: {tmp_path / 'trace.json'}")
    assert json.loads((tmp_path / "trace.json").read_text())["answer"] == "Buch"


def test_call_and_ls(capsys):
    assert run_app(root_app, ["tools", "call", "kg_query", "-a", '{"subject": "Peru"}']) == 0
    assert "[bad_args]" in capsys.readouterr().out
    assert run_app(root_app, ["tools", "ls", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["tools"]) == 22


def test_presets_load_and_paper_uses_native_dfsdt():
    for name in ("tiny", "default", "paper", "smollm2"):
        load_config(ToolsConfig, name, package="ennead.tools")
    paper = load_config(ToolsConfig, "paper", package="ennead.tools")
    assert paper.policy.native and paper.agent.kind == "dfsdt" and paper.train.teacher == "lm"


def test_native_policy_without_a_server_is_a_config_error():
    from ennead.core.errors import ConfigError

    cfg = ToolsConfig.model_validate({"policy": {"kind": "lm", "native": True}})
    with pytest.raises(ConfigError, match="base_url"):
        Tools(cfg).policy()


@pytest.mark.slow
def test_train_path_smoke_with_the_tiny_model(tmp_path):
    """Traces -> SFT rows -> LoRA steps -> untuned and tuned evaluation (a smoke test: sizes are
    far too small for a real effect)."""
    cfg = ToolsConfig.model_validate(
        {
            "policy": {"kind": "lm", "backend": "tiny", "max_new_tokens": 8},
            "train": {"student": "tiny", "steps": 2, "batch_size": 2, "max_input_tokens": 400},
            "eval_limit": 1,
            "agent": {"max_steps": 1, "budget": 1, "retrieve_k": 2},
        }
    )
    res = Tools(cfg).train(tmp_path)
    info = json.loads((tmp_path / "train.json").read_text())
    assert info["rows"] > 100 and info["steps"] == 2 and set(res.tuned) == set(res.untuned)
    assert (tmp_path / "adapter").is_dir()


def test_native_agent_needs_a_native_policy(capsys):
    assert run_app(root_app, ["tools", "config", "--set", "agent.kind=native"]) == 2
    assert "policy.native" in capsys.readouterr().err
