"""DDR's ``check`` and ``report`` verbs (no model is loaded) and its one-line errors."""

from __future__ import annotations

import json

from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import run_app
from ennead.core.runs import RunDir


def test_check_names_each_bad_line_and_file(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text('{"question": "Who?", "answers": ["me"]}\n')
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who?"}\n{"answers": ["x"]}\n')
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"question": "caf\xe9?"}\n')
    code = run_app(root_app, ["ddr", "check", str(good), str(bad), str(latin), "-c", "tiny"])
    out, err = capsys.readouterr()
    assert code == 2 and not err
    assert out.splitlines() == [
        f"{bad}:2: no question (looked for question, input, query)",
        f"{latin}:1: question file is not UTF-8 text",
    ]
    assert run_app(root_app, ["ddr", "check", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == [str(good)]


def test_check_reports_a_bad_config_and_still_checks_the_files(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("gen:\n  top_nn: 2\n")
    code = run_app(root_app, ["ddr", "check", str(tmp_path / "gone.jsonl"), "-c", str(cfg)])
    out = capsys.readouterr().out.splitlines()
    assert code == 2 and len(out) == 2
    assert out[0].startswith(f"{cfg}: invalid DDRConfig: unknown key 'gen.top_nn'")
    assert out[1] == f"{tmp_path / 'gone.jsonl'}: question file not found"


def test_report_of_a_run_folder(tmp_path, capsys):
    run = RunDir.create(tmp_path / "run", {"x": 1}, system="ddr")
    run.finish(summary={"vanilla": {"overall": 50.0}, "DDR-all": {"overall": 61.5}})
    assert run_app(root_app, ["ddr", "report", str(run.path)]) == 0
    assert "report.html" in capsys.readouterr().out
    md = (run.path / "report.md").read_text(encoding="utf-8")
    assert "DDR-all" in md and "61.5" in md
    assert run_app(root_app, ["ddr", "report", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
