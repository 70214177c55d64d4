"""docs/howto/extend.md, tried: build its toy system from the code blocks and run every verb."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import ennead
from ennead.core.cli.app import app as root_app
from ennead.core.cli.app import mount_system
from ennead.core.cli.common import run_app
from ennead.core.systems import systems

HOWTO = Path(__file__).resolve().parents[3] / "docs" / "howto" / "extend.md"
BLOCK = re.compile(r"^```\w+ file=(?P<path>\S+)\n(?P<body>.*?)^```$", re.S | re.M)


@pytest.fixture
def vocab(tmp_path, monkeypatch):
    """The how-to's files under tmp_path, importable as ``ennead.vocab`` and mounted as a system."""
    blocks = {m["path"]: m["body"] for m in BLOCK.finditer(HOWTO.read_text(encoding="utf-8"))}
    assert {"src/ennead/vocab/api.py", "src/ennead/vocab/cli.py"} <= set(blocks)
    for rel, body in blocks.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    (tmp_path / "src/ennead/vocab/__init__.py").write_text("")
    monkeypatch.setattr(ennead, "__path__", [*ennead.__path__, str(tmp_path / "src/ennead")])
    # what the entry point in pyproject would do
    monkeypatch.setitem(systems._targets, "vocab", "ennead.vocab.spec:SPEC")
    monkeypatch.setattr(root_app, "registered_groups", list(root_app.registered_groups))
    mount_system("vocab")
    yield tmp_path
    for name in [m for m in sys.modules if m == "ennead.vocab" or m.startswith("ennead.vocab.")]:
        del sys.modules[name]


def test_howto_system_runs_every_verb(vocab, tmp_path, capsys):
    runner = CliRunner()
    group = typer.main.get_command(root_app).commands["vocab"]  # type: ignore[attr-defined]
    assert {"demo", "train", "evaluate", "report", "check", "config"} <= set(group.commands)

    res = runner.invoke(root_app, ["vocab", "demo", "-o", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "coverage 0.666667" in res.output  # 4 of "the dog sat on the log" are known

    ref, text = tmp_path / "ref.txt", tmp_path / "text.txt"
    ref.write_text("a b c c\n")
    text.write_text("a b d e\n")
    run = tmp_path / "run"
    res = runner.invoke(root_app, ["vocab", "train", str(ref), "tiny", "-o", str(run), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["metrics"] == {"words": 3.0}
    res = runner.invoke(
        root_app, ["vocab", "train", str(ref), "tiny", "--set", "min_count=2", "-o", str(run)]
    )
    assert res.exit_code != 0  # a resumed run folder refuses a different config
    res = runner.invoke(root_app, ["vocab", "evaluate", str(run), "--data", str(text), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["coverage"] == 0.5
    res = runner.invoke(root_app, ["vocab", "report", str(run)])
    assert res.exit_code == 0 and (run / "report.html").is_file() and (run / "report.md").is_file()
    res = runner.invoke(root_app, ["vocab", "config", "tiny", "--set", "min_count=3"])
    assert res.exit_code == 0 and "min_count: 3" in res.output

    tabbed = tmp_path / "tabbed.txt"
    tabbed.write_text("fine\nnot\tfine\n")
    res = runner.invoke(root_app, ["vocab", "check", str(ref), str(tabbed), str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        f"{tabbed}:2: tabs are not allowed; use spaces",
        f"{tmp_path}: text file is a folder; expected a file",
    ]
    res = runner.invoke(root_app, ["vocab", "check", str(ref), "-c", "tiny"])
    assert res.exit_code == 0 and res.output.strip() == "ok"

    # the one error path, as the console script runs it
    assert run_app(root_app, ["vocab", "train", str(tmp_path / "missing.txt")]) == 2
    assert capsys.readouterr().err == f"error: input file not found ({tmp_path / 'missing.txt'})\n"
    assert run_app(root_app, ["vocab", "evaluate", str(ref), "--data", str(text)]) == 2
    assert "is a file; expected a folder" in capsys.readouterr().err
