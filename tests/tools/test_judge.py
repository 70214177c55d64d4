"""ToolEval's win rate with an LLM judge over two evaluated runs."""

import json
import re

import pytest

from ennead.core.backends.base import Completion
from ennead.core.errors import DataError
from ennead.tools.judge import judged_win_rate


def _run(folder, records):
    folder.mkdir()
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


class NumberJudge:
    """Prefers the answer that contains a digit."""

    def __init__(self):
        self.asked = 0

    def generate(self, prompts, params):
        self.asked += len(prompts)
        out = []
        for p in prompts:
            text = p[-1]["content"]
            a = bool(re.search(r"\d", re.search(r"Answer A: (.*)", text).group(1)))
            b = bool(re.search(r"\d", re.search(r"Answer B: (.*)", text).group(1)))
            out.append([Completion("A" if a > b else ("B" if b > a else "tie"), [])])
        return out


def test_pass_labels_first_then_the_judge(tmp_path):
    cand = _run(
        tmp_path / "c",
        [
            {"task": "t1", "passed": True, "answer": "x"},  # passes, reference fails: win, no judge
            {"task": "t2", "passed": True, "answer": "42"},  # both pass: judge prefers the number
            {"task": "t3", "passed": False, "answer": "sorry"},  # both fail: judge ties
            {"task": "t4", "passed": False, "answer": "no"},  # fails, reference passes: loss
            {"task": "t9", "passed": True, "answer": "only here"},
        ],
    )
    ref = _run(
        tmp_path / "r",
        [
            {"task": "t1", "passed": False, "answer": "7"},
            {"task": "t2", "passed": True, "answer": "forty-two"},
            {"task": "t3", "passed": False, "answer": "cannot"},
            {"task": "t4", "passed": True, "answer": "5"},
        ],
    )
    judge = NumberJudge()
    res = judged_win_rate(cand, ref, judge, {f"t{i}": f"task {i}" for i in range(1, 10)})
    assert (res.tasks, res.judged) == (4, 2) and judge.asked == 4  # t2, t3 in both orders
    assert (res.win, res.tie, res.loss) == (0.5, 0.25, 0.25)
    saved = json.loads((cand / "win_rate.json").read_text())
    assert saved["per_task"] == {"t1": 1.0, "t2": 1.0, "t3": 0.5, "t4": 0.0}


def test_bad_runs_are_named(tmp_path):
    with pytest.raises(DataError, match=r"records\.jsonl is missing"):
        judged_win_rate(tmp_path, tmp_path, NumberJudge(), {})
    a = _run(tmp_path / "a", [{"task": "t1", "passed": True, "answer": "1"}])
    b = _run(tmp_path / "b", [{"task": "t2", "passed": True, "answer": "1"}])
    with pytest.raises(DataError, match="share no task"):
        judged_win_rate(a, b, NumberJudge(), {})
    c = _run(tmp_path / "c", [{"task": "t1", "passed": True}])
    with pytest.raises(DataError, match=r"records.jsonl:1: record without answer"):
        judged_win_rate(a, c, NumberJudge(), {})
    d = _run(tmp_path / "d", [{"task": "t1", "passed": True, "answer": "2"}])
    with pytest.raises(DataError, match="no instruction"):
        judged_win_rate(a, d, NumberJudge(), {})


def test_judge_verb_reads_the_suite_and_loads_the_backend(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from typer.testing import CliRunner

    import ennead.core.backends as backends
    import ennead.tools.tasks as tasks
    from ennead.core.cli.app import app

    suite = [SimpleNamespace(id=f"t{i}", instruction=f"how far {i}?") for i in range(3)]
    monkeypatch.setattr(tasks, "build_suite", lambda: suite)
    loaded = []
    monkeypatch.setattr(backends, "load_backend", lambda name: loaded.append(name) or NumberJudge())
    a = _run(tmp_path / "a", [{"task": t.id, "passed": True, "answer": "12 km"} for t in suite])
    b = _run(tmp_path / "b", [{"task": t.id, "passed": True, "answer": "far"} for t in suite])
    out = CliRunner().invoke(app, ["tools", "judge", str(a), str(b), "--backend", "gpt-judge"])
    assert out.exit_code == 0, out.output
    assert loaded == ["gpt-judge"]
    assert "win 1.000" in out.output and "over 3 tasks (3 judged" in out.output
