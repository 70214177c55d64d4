"""Each sandbox block returns a clear observation, in bounded time (CPU 1 s, wall 3 s)."""

import pytest

from ennead.tools.sandbox import network_isolation, run_python


def _run(code, tmp_path, **kw):
    kw = {"cpu_s": 1, "wall_s": 3.0, "mem_mb": 256} | kw
    return run_python(code, tmp_path, **kw)


def test_plain_code_runs_and_writes_inside_the_workspace(tmp_path):
    r = _run("import json\nopen('out.txt', 'w').write('hi')\nprint(json.dumps([1, 2]))", tmp_path)
    assert r.status == "ok" and r.stdout.strip() == "[1, 2]"
    assert (tmp_path / "out.txt").read_text() == "hi"


@pytest.mark.parametrize("no_unshare", ["0", "1"])
def test_network_is_blocked(tmp_path, monkeypatch, no_unshare):
    import ennead.tools.sandbox as sb

    monkeypatch.setenv("ENNEAD_SANDBOX_NO_UNSHARE", no_unshare)
    monkeypatch.setattr(sb, "_UNSHARE", None)
    r = _run("import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=1)", tmp_path)
    assert r.status == "blocked" and "socket" in r.observation()
    if no_unshare == "1":
        assert network_isolation() == "audit-hook"


@pytest.mark.parametrize(
    "code",
    [
        "print(open('/etc/passwd').read())",
        "print(open('../secret.txt').read())",
        "import os\nprint(os.listdir('/'))",
        "import pathlib\nprint(list(pathlib.Path('/home').iterdir()))",
    ],
)
def test_reading_outside_the_workspace_is_blocked(tmp_path, code):
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "secret.txt").write_text("top secret")
    r = _run(code, ws)
    assert r.status == "blocked" and "outside the workspace" in r.observation()
    assert "top secret" not in r.stdout and "root:" not in r.stdout


@pytest.mark.parametrize(
    "code",
    [
        "import os\nwhile True:\n    os.fork()",
        "import subprocess\nsubprocess.run(['sh', '-c', ':(){ :|:& };:'])",
        "import os\nos.system('echo hi')",
    ],
)
def test_fork_bombs_and_processes_are_blocked(tmp_path, code):
    r = _run(code, tmp_path)
    assert r.status == "blocked" and "blocked" in r.observation()


def test_runaway_loop_is_stopped(tmp_path):
    r = _run("while True:\n    pass", tmp_path)
    assert r.status == "timeout" and "time limit" in r.observation()


def test_memory_blow_up_is_stopped(tmp_path):
    r = _run("x = bytearray(2 * 1024 ** 3)", tmp_path)
    assert r.status == "memory" and "memory limit" in r.observation()


def test_errors_are_reported_with_their_type(tmp_path):
    r = _run("print('before')\n1 / 0", tmp_path)
    assert r.status == "error" and "ZeroDivisionError" in r.observation() and "before" in r.stdout
