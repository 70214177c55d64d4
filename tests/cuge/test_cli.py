"""CUGE's CLI: several positional submissions, the config optional, one-line errors (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import run_app


@pytest.fixture()
def subs(cuge, tmp_path):
    """Two submission files of the tiny suite and the --set lines that point at it."""
    a = Path(cuge.predict(tmp_path / "a.json").submission)
    b = tmp_path / "b.json"
    data = json.loads(a.read_text(encoding="utf-8"))
    data["model"] = "second <b>model</b>"
    b.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    sets = ["--set", f"data_dir={cuge.config.data_dir}", "--set", f"out={tmp_path}"]
    return a, b, sets


def _run(argv, capsys):
    code = run_app(root_app, argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_board_takes_several_submissions_without_a_config(subs, tmp_path, capsys):
    a, b, sets = subs
    code, out, err = _run(
        ["cuge", "board", str(a), str(b), *sets, "-o", str(tmp_path / "bd")], capsys
    )
    assert code == 0, err
    assert "unknown key" not in out + err
    assert (tmp_path / "bd" / "board.csv").read_text(encoding="utf-8").count("\n") >= 3
    # the old spelling, a preset after the files, still works; and --config says it outright
    code, out, err = _run(["cuge", "report", str(a), str(b), "tiny", *sets], capsys)
    assert code == 0, err
    code, out, err = _run(
        ["cuge", "evaluate", str(a), str(b), "-c", "tiny", *sets, "--json"], capsys
    )
    assert code == 0, err
    assert [r["metrics"]["index"] for r in json.loads(out)] == [100.0, 100.0]


def test_two_configs_are_refused(subs, capsys):
    a, _, sets = subs
    code, _, err = _run(["cuge", "evaluate", str(a), "tiny", "-c", "paper", *sets], capsys)
    assert code == 2 and err.startswith("error: two configs given: 'paper' and 'tiny'")


@pytest.mark.parametrize("verb", ["evaluate", "board"])
def test_missing_submission_is_one_line(verb, subs, tmp_path, capsys):
    a, _, sets = subs
    missing = tmp_path / "nope.json"
    code, _, err = _run(["cuge", verb, str(a), str(missing), "tiny", *sets], capsys)
    assert code == 2
    assert err == f"error: submission not found ({missing})\n"


def test_check_lists_each_bad_submission(subs, tmp_path, capsys):
    a, _, sets = subs
    empty = tmp_path / "empty.json"
    empty.write_text("")
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": ')
    code, out, err = _run(["cuge", "check", str(a), str(empty), str(broken), *sets], capsys)
    assert code == 2 and not err
    lines = out.splitlines()
    assert lines[0] == f"{empty}: submission is empty"
    assert lines[1].startswith(f"{broken}: ") and "JSON" in lines[1]
    assert len(lines) == 2
    code, out, _ = _run(["cuge", "check", str(a), *sets], capsys)
    assert code == 0 and out.strip() == "ok"


def test_predict_before_prepare_says_what_to_run(tmp_path, capsys):
    code, _, err = _run(
        ["cuge", "predict", "tiny", "--set", f"data_dir={tmp_path / 'nodata'}", "-o", "x.json"],
        capsys,
    )
    assert code == 2
    assert "run `ennead cuge prepare` first" in err and "test_inputs.jsonl" in err
