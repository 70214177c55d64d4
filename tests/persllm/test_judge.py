"""The optional LLM judge over a run folder's answers-<system>.jsonl files."""

import json
import re

import pytest

from ennead.core.backends.base import Completion
from ennead.core.errors import DataError
from ennead.persllm.judge import judge_run


def _write(run, system, answers):
    rows = [
        {
            "metric": "stance",
            "persona": "ada",
            "stage": "I",
            "question": f"q{i}?",
            "gold": "pro",
            "answer": a,
        }
        for i, a in enumerate(answers)
    ]
    rows.append({**rows[0], "answer": "a second sample of q0, ignored"})  # BLEU samples repeat
    (run / f"answers-{system}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


class GoldJudge:
    """Prefers the answer that states the reference's stance word."""

    name = "gold-judge"

    def generate(self, prompts, params):
        out = []
        for p in prompts:
            text = p[-1]["content"]
            gold = re.search(r"Reference answer: \w+: (\w+)", text).group(1)
            a = gold in re.search(r"Answer A: (.*)", text).group(1)
            b = gold in re.search(r"Answer B: (.*)", text).group(1)
            out.append([Completion("A" if a and not b else ("B" if b and not a else "tie"), [])])
        return out


def test_judge_ranks_the_system_that_keeps_its_stance_first(tmp_path):
    n = 12
    _write(tmp_path, "B0", ["i am against it"] * n)
    _write(tmp_path, "SFT", ["i am pro"] * (n // 2) + ["no idea"] * (n // 2))
    _write(tmp_path, "SFT+DPO", ["pro, always"] * n)
    res = judge_run(tmp_path, GoldJudge(), limit=None)
    assert res.systems[0] == "B0" and res.questions == n
    assert res.mean_rank["SFT+DPO"] < res.mean_rank["SFT"] < res.mean_rank["B0"]
    assert res.win_rate_vs_base["SFT+DPO"]["win"] == 1.0
    assert res.win_rate_vs_base["SFT"] == {"win": 0.5, "tie": 0.5, "loss": 0.0}
    assert res.calls == n * 3 * 2 and res.unreadable == 0
    saved = json.loads((tmp_path / "judge.json").read_text())
    assert saved["mean_rank"] == pytest.approx(res.mean_rank)
    assert "SFT+DPO" in (tmp_path / "judge.md").read_text()
    # a seeded sample of the questions
    few = judge_run(tmp_path, GoldJudge(), limit=5, seed=1)
    assert few.questions == 5


def test_judge_needs_two_systems_and_shared_questions(tmp_path):
    _write(tmp_path, "B0", ["x"])
    with pytest.raises(DataError, match="at least two"):
        judge_run(tmp_path, GoldJudge())
    _write(tmp_path, "SFT", ["y"])
    with pytest.raises(DataError, match="no question of metrics"):
        judge_run(tmp_path, GoldJudge(), metrics=["fact"])
    (tmp_path / "answers-bad.jsonl").write_text('{"metric": "stance", "question": "q0?"}\n')
    with pytest.raises(DataError, match=r"answers-bad.jsonl:1: answer row without answer"):
        judge_run(tmp_path, GoldJudge())


def test_judge_verb_loads_the_named_backend(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import ennead.core.backends as backends
    from ennead.core.cli.app import app

    _write(tmp_path, "B0", ["against", "against"])
    _write(tmp_path, "PersLLM", ["pro", "pro"])
    loaded = []
    monkeypatch.setattr(backends, "load_backend", lambda name: loaded.append(name) or GoldJudge())
    out = CliRunner().invoke(app, ["persllm", "judge", str(tmp_path), "--backend", "judge-llm"])
    assert out.exit_code == 0, out.output
    assert loaded == ["judge-llm"] and "mean rank" in out.output
    assert json.loads((tmp_path / "judge.json").read_text())["mean_rank"]["PersLLM"] == 1.0
