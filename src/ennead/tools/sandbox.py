"""The Python tool's sandbox: a separate process with limits, no network, confined to a workspace.

Layers (each test in tests/tools/test_sandbox.py proves one block and its observation):

- a fresh interpreter (``python -I -S``: no site-packages, no user env) in a temporary working dir,
  with a minimal environment;
- ``resource`` limits set before exec: RLIMIT_CPU (runaway loops), RLIMIT_AS (memory blow-ups),
  RLIMIT_NPROC = 0 (no new processes: fork bombs), RLIMIT_FSIZE and RLIMIT_NOFILE; plus a wall-clock
  timeout that kills the process;
- no network: a new user+network namespace (``unshare -rn``, only a loopback that is down) when the
  kernel allows it, and in every case an audit hook that refuses socket creation;
- an audit hook (``sys.addaudithook``) installed before the user's code runs: ``open`` outside the
  workspace (reads are also allowed in the interpreter's own stdlib folders), listing or changing
  to other folders, subprocess/fork/exec/spawn, ``ctypes`` and socket use raise ``PermissionError``.

What this does not stop: audit hooks are a CPython feature, not a security boundary. Code that
already holds an open file descriptor, or finds a bug in the interpreter, can get past them; the
resource limits and the namespace are what hold then. There is no seccomp filter and no chroot, so
do not run hostile code here on a machine you care about.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BLOCKED_EXIT = 3
_BOOT = r"""
import sys, os
code = sys.stdin.read()
ws = os.path.realpath(os.getcwd())
std = tuple(os.path.realpath(p) for p in sys.path if p and os.path.exists(p))
class SandboxBlocked(PermissionError):
    pass
def _inside(path, roots):
    try:
        p = os.path.realpath(os.fsdecode(path) if not isinstance(path, int) else "")
    except Exception:
        return False
    return any(p == r or p.startswith(r + os.sep) for r in roots)
_DENY = ("socket.", "subprocess.", "os.system", "os.fork", "os.forkpty", "os.exec",
         "os.posix_spawn", "os.spawn", "os.kill", "ctypes.", "os.chdir", "os.chroot",
         "os.putenv", "pty.", "fcntl.")
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return
        write = (mode and any(c in mode for c in "wax+")) or (flags & (os.O_WRONLY | os.O_RDWR))
        roots = (ws,) if write else (ws,) + std
        if not _inside(path, roots):
            raise SandboxBlocked(f"sandbox: opening {path!r} outside the workspace is blocked")
    elif event in ("os.listdir", "os.scandir", "os.remove", "os.rename", "os.mkdir", "os.rmdir",
                   "shutil.rmtree", "os.symlink", "os.link", "os.chmod"):
        path = args[0] if args else "."
        if path is None:
            path = "."
        roots = (ws,) + std if event in ("os.listdir", "os.scandir") else (ws,)
        if not _inside(path, roots):
            raise SandboxBlocked(f"sandbox: {event} on {path!r} outside the workspace is blocked")
    elif event.startswith(_DENY):
        raise SandboxBlocked(f"sandbox: {event} is blocked (no network, processes or ctypes)")
sys.addaudithook(hook)
del hook
try:
    exec(compile(code, "<sandbox>", "exec"), {"__name__": "__main__"})
except SandboxBlocked as e:
    sys.stdout.flush()
    sys.stderr.write(f"BLOCKED: {e}\n")
    os._exit(3)
except MemoryError:
    sys.stdout.flush()
    sys.stderr.write("MemoryError: the memory limit was reached\n")
    os._exit(4)
except SystemExit:
    raise
except BaseException as e:
    sys.stdout.flush()
    sys.stderr.write(f"{type(e).__name__}: {e}\n")
    os._exit(1)
"""


def _unshare_works() -> bool:
    exe = shutil.which("unshare")
    if exe is None:
        return False
    try:
        r = subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


_UNSHARE: bool | None = None


def network_isolation() -> str:
    """'namespace' when processes get their own network namespace, else 'audit-hook'."""
    global _UNSHARE
    if _UNSHARE is None:
        _UNSHARE = os.environ.get("ENNEAD_SANDBOX_NO_UNSHARE") != "1" and _unshare_works()
    return "namespace" if _UNSHARE else "audit-hook"


@dataclass
class SandboxResult:
    status: str  # ok | error | blocked | timeout | memory
    stdout: str
    stderr: str
    returncode: int | None
    isolation: str

    def observation(self) -> str:
        out = self.stdout.rstrip()
        if self.status == "ok":
            return out or "(no output; print what you want to see)"
        what = {
            "error": "the code raised",
            "blocked": "the sandbox blocked an operation",
            "timeout": "the time limit was reached (CPU or wall clock)",
            "memory": "the memory limit was reached",
        }[self.status]
        tail = self.stderr.strip().splitlines()[-1:] if self.stderr.strip() else []
        return f"{what}: {' '.join(tail)}".strip() + (f"\nstdout: {out}" if out else "")


def _limits(cpu_s: int, mem_mb: int) -> None:  # runs in the child, before exec
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os.setsid()


def run_python(
    code: str,
    workspace: str | Path | None = None,
    cpu_s: int = 2,
    wall_s: float = 4.0,
    mem_mb: int = 256,
    max_output: int = 20000,
) -> SandboxResult:
    """Run ``code`` in the sandbox; ``workspace`` None: a fresh temporary folder."""
    tmp = None
    if workspace is None:
        tmp = tempfile.TemporaryDirectory(prefix="ennead-sandbox-")
        workspace = tmp.name
    iso = network_isolation()
    cmd = [sys.executable, "-I", "-S", "-c", _BOOT]
    if iso == "namespace":
        cmd = [shutil.which("unshare") or "unshare", "-rn", *cmd]
        # the namespace needs a little more address space for unshare's own exec
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=str(workspace),
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: _limits(cpu_s, mem_mb),
        )
        try:
            out, err = proc.communicate(code.encode(), timeout=wall_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return SandboxResult("timeout", _dec(out, max_output), _dec(err, 2000), None, iso)
        rc = proc.returncode
        stdout, stderr = _dec(out, max_output), _dec(err, 2000)
        if rc == 0:
            status = "ok"
        elif rc == BLOCKED_EXIT:
            status = "blocked"
        elif rc == 4 or "MemoryError" in stderr:
            status = "memory"
        elif rc in (-signal.SIGXCPU, -signal.SIGKILL):
            status = "timeout"
        else:
            status = "error"
        return SandboxResult(status, stdout, stderr, rc, iso)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _dec(b: bytes, limit: int) -> str:
    text = b.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"
