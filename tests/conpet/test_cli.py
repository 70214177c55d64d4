"""``ennead conpet`` verbs end to end on a small stream, and their one-line errors."""

from __future__ import annotations

import json

from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import run_app

from .conftest import SMALL


def _set(*extra: str) -> list[str]:
    out: list[str] = []
    for item in [*SMALL, "methods=[sequential,static,dynamic]", *extra]:
        out += ["--set", item]
    return out


def test_stream_train_evaluate_report(tmp_path, capsys):
    stream = tmp_path / "stream.json"
    assert run_app(root_app, ["conpet", "stream", "tiny", *_set(), "-o", str(stream)]) == 0
    assert len(json.loads(stream.read_text())["tasks"]) == 3
    assert run_app(root_app, ["conpet", "check", str(stream)]) == 0
    capsys.readouterr()
    run = tmp_path / "run"
    args = ["conpet", "train", "tiny", *_set(), "--stream", str(stream), "-o", str(run), "--json"]
    assert run_app(root_app, args) == 0
    text = capsys.readouterr().out  # progress log lines come first
    out = json.loads(text[text.index("\n{") + 1 :] if not text.startswith("{") else text)
    assert set(out["methods"]) == {"sequential", "static", "dynamic"}
    assert run_app(root_app, ["conpet", "evaluate", str(run)]) == 0
    assert "Dynamic ConPET" in capsys.readouterr().out
    assert run_app(root_app, ["conpet", "report", str(run)]) == 0
    html = (run / "report.html").read_text()
    assert "Accuracy matrices" in html and html.count("<img") >= 4  # line plot + 3 heat maps
    # a changed stream on resume: one error line naming the task
    other = tmp_path / "other.json"
    assert run_app(root_app, ["conpet", "stream", "tiny", *_set("seed=9"), "-o", str(other)]) == 0
    capsys.readouterr()
    args = ["conpet", "train", "tiny", *_set(), "--stream", str(other), "-o", str(run)]
    assert run_app(root_app, args) == 2
    assert "task 1 ('task1') changed" in capsys.readouterr().err


def test_check_names_the_task_and_label(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    tasks = [
        {
            "name": "a",
            "labels": ["x"],
            "train": [[0, "t", "x"]],
            "valid": [],
            "test": [[1, "t", "x"]],
        },
        {
            "name": "b",
            "labels": ["x"],
            "train": [[2, "t", "x"]],
            "valid": [],
            "test": [[3, "t", "x"]],
        },
    ]
    bad.write_text(json.dumps({"name": "s", "tasks": tasks}))
    assert run_app(root_app, ["conpet", "check", str(bad)]) == 2
    assert capsys.readouterr().out.strip() == (
        f"{bad}: task 'b' reuses label 'x' of task 'a'; each task must bring new labels"
    )
