"""The one error path: input checks and the ``error: <what> (<file>[:line])`` line."""

from __future__ import annotations

import errno
import os

import pytest

from ennead.core.checks import check_inputs, input_dir, input_file
from ennead.core.cli.common import error_line, print_error
from ennead.core.errors import ConfigError, DataError
from ennead.core.io import read_jsonl


def test_input_file_names_each_problem(tmp_path):
    with pytest.raises(DataError, match="not found") as info:
        input_file(tmp_path / "nope.txt")
    assert error_line(info.value) == f"input file not found ({tmp_path / 'nope.txt'})"
    with pytest.raises(DataError, match="is a folder; expected a file"):
        input_file(tmp_path, "config file")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        input_file(empty)
    assert input_file(empty, allow_empty=True) == empty
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"line one\nline two\ncaf\xe9\n")
    with pytest.raises(DataError) as info:
        input_file(latin)
    assert error_line(info.value) == f"input file is not UTF-8 text ({latin}:3)"
    assert input_file(latin, text=False) == latin


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_input_file_permission_denied(tmp_path):
    locked = tmp_path / "locked.txt"
    locked.write_text("x")
    locked.chmod(0)
    with pytest.raises(DataError, match="permission denied"):
        input_file(locked)


def test_input_dir(tmp_path):
    assert input_dir(tmp_path) == tmp_path
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataError, match="is a file; expected a folder"):
        input_dir(tmp_path / "f", "run folder")
    with pytest.raises(DataError, match="run folder not found"):
        input_dir(tmp_path / "g", "run folder")


def test_error_line_for_os_errors_and_others():
    exc = IsADirectoryError(errno.EISDIR, "Is a directory", "/data/x")
    assert error_line(exc) == "is a directory (/data/x)"
    assert error_line(ConfigError("bad\nkey   value")) == "bad key value"
    assert error_line(DataError("no question", "q.jsonl", 4)) == "no question (q.jsonl:4)"


def test_print_error_is_one_unwrapped_line(capsys):
    long = "x" * 300 + " [not markup]"
    print_error(ConfigError(long))
    err = capsys.readouterr().err
    assert err == f"error: {long}\n"


def test_check_inputs_collects_one_issue_per_file(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("1\n")
    bad.write_text("1\nzwei\n")

    def load(path):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if not line.isdigit():
                raise DataError(f"not a number: {line!r}", path, i)

    res = check_inputs([good, bad, tmp_path / "gone.txt"], load)
    assert res.checked == [str(good), str(bad), str(tmp_path / "gone.txt")]
    assert [str(i) for i in res.issues] == [
        f"{bad}:2: not a number: 'zwei'",
        f"{tmp_path / 'gone.txt'}: input file not found",
    ]
    assert not res.ok and check_inputs([good], load).ok


def test_jsonl_error_says_at_once(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"a": 1}\n{"a": "unterminated')  # no newline: the string runs to the end
    with pytest.raises(DataError) as info:
        read_jsonl(path)
    assert " at at " not in str(info.value) and info.value.line == 2
    assert "Unterminated string starting at column" in str(info.value)


def test_ls_lists_every_systems_metrics():
    """Metrics that systems register (CUGE's) are listed without importing the system first."""
    import json
    import subprocess
    import sys

    code = (
        "import json; from ennead.core.catalog import catalog; "
        "print(json.dumps([m['name'] for m in catalog()['metrics']]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert {"exact_match", "math_accuracy", "bleu_zh"} <= set(json.loads(out.stdout))


def test_ls_gives_plugin_metrics_their_summary():
    """A metric registered through an entry point shows its own summary in ``ennead ls``."""
    from ennead.core.catalog import catalog

    rows = {m["name"]: m["summary"] for m in catalog()["metrics"]}
    assert "corpus BLEU-4" in rows["bleu_zh"]
    assert all(rows.values()), [name for name, summary in rows.items() if not summary]
