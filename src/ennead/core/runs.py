"""Runs are folders.

A :class:`RunDir` holds ``config.yaml`` (the resolved config), ``manifest.json`` (git sha, package
versions, seed, start and end time), ``metrics.jsonl`` and one folder per stage under ``stages/``.
A stage counts as finished only when its ``_DONE.json`` marker exists; the marker is written
atomically after everything else, so a crash mid-stage leaves a stage that is redone, never one
mistaken for finished.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from ennead.core.errors import StageError
from ennead.core.io import append_jsonl, atomic_write_json, atomic_write_text
from ennead.core.logging import get_logger

log = get_logger(__name__)
R = TypeVar("R")
DONE = "_DONE.json"
TRACKED_PACKAGES = (
    "ennead",
    "torch",
    "transformers",
    "peft",
    "trl",
    "accelerate",
    "sentence-transformers",
    "faiss-cpu",
    "numpy",
    "pydantic",
    "vllm",
    "deepspeed",
    "ray",
)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_sha(start: Path | None = None) -> str | None:
    """The commit of the ennead source tree (None when installed from a wheel)."""
    where = start or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    sha = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return sha + ("-dirty" if dirty.stdout.strip() else "")


_STAGE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class RunDir:
    """One run's folder. Create with :meth:`create`; reopening an existing folder resumes it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    # -- creation -------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        config: Any = None,
        *,
        seed: int | None = None,
        system: str | None = None,
        command: str | None = None,
        resume: bool = True,
    ) -> RunDir:
        """Create ``path`` or, when it already holds a run and ``resume``, reopen it.

        Resuming with a different config is refused: the finished stages were made with the old one.
        """
        run = cls(path)
        config_text = _config_text(config)
        manifest_path = run.path / "manifest.json"
        if manifest_path.exists():
            if not resume:
                raise StageError(f"{run.path} already holds a run; pick another folder")
            old = (
                (run.path / "config.yaml").read_text(encoding="utf-8")
                if (run.path / "config.yaml").exists()
                else None
            )
            if config_text is not None and old is not None and old != config_text:
                changed, added = config_changes(old, config_text)
                if changed:
                    shown = "; ".join(changed[:5]) + ("; ..." if len(changed) > 5 else "")
                    raise StageError(
                        f"{run.path} holds a run made with a different config ({shown}); resume "
                        "needs the same config (see config.yaml there) or a new run folder"
                    )
                # Only keys the old config did not have (a newer release added fields with
                # defaults): the finished stages stand; the folder records the current config.
                log.warning(
                    "resuming %s; config keys new since it started: %s",
                    run.path,
                    ", ".join(added) or "(formatting only)",
                )
                atomic_write_text(run.path / "config.yaml", config_text)
            manifest = run.manifest
            manifest["resumed"] = [*manifest.get("resumed", []), _now()]
            manifest["status"] = "running"
            atomic_write_json(manifest_path, manifest)
            return run
        run.path.mkdir(parents=True, exist_ok=True)
        if config_text is not None:
            atomic_write_text(run.path / "config.yaml", config_text)
        atomic_write_json(
            manifest_path,
            {
                "system": system,
                "command": command or " ".join(sys.argv),
                "seed": seed,
                "started": _now(),
                "ended": None,
                "status": "running",
                "git_sha": git_sha(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "packages": package_versions(),
            },
        )
        return run

    @property
    def manifest(self) -> dict[str, Any]:
        path = self.path / "manifest.json"
        if not path.exists():
            raise StageError(f"{self.path} is not a run folder (no manifest.json)")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def finish(self, status: str = "finished", **extra: Any) -> None:
        manifest = self.manifest
        manifest.update(status=status, ended=_now(), **extra)
        atomic_write_json(self.path / "manifest.json", manifest)

    # -- metrics and artifacts --------------------------------------------------------------
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None, **tags: Any) -> None:
        row: dict[str, Any] = {"time": _now(), **tags}
        if step is not None:
            row["step"] = step
        row.update(metrics)
        append_jsonl(self.path / "metrics.jsonl", row)

    def rewind_metrics(self, step: int, **tags: Any) -> int:
        """Drop the rows with these tags logged after ``step`` (a resumed stage restarts at its
        last checkpoint and logs those steps again); returns how many rows went. Atomic."""
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return 0
        keep, dropped = [], 0
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                dropped += 1  # a line cut by the crash that made us resume
                continue
            mine = all(row.get(k) == v for k, v in tags.items())
            if mine and isinstance(row.get("step"), int) and row["step"] > step:
                dropped += 1
                continue
            keep.append(line)
        if dropped:
            atomic_write_text(path, "".join(line + "\n" for line in keep))
        return dropped

    def read_metrics(self) -> list[dict[str, Any]]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a crash; earlier lines stand
        return rows

    def artifact(self, name: str) -> Path:
        path = self.path / "artifacts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # -- stages -----------------------------------------------------------------------------
    def stage_dir(self, name: str) -> Path:
        if not _STAGE_NAME.match(name):
            raise StageError(f"stage name {name!r} may hold only letters, digits, '_', '-', '.'")
        return self.path / "stages" / name

    def is_done(self, name: str) -> bool:
        return (self.stage_dir(name) / DONE).exists()

    def stage_info(self, name: str) -> dict[str, Any]:
        marker = self.stage_dir(name) / DONE
        if not marker.exists():
            raise StageError(f"stage {name!r} of {self.path} has not finished")
        data: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
        return data

    def run_stage(self, name: str, fn: Callable[[Path], R]) -> R | dict[str, Any]:
        """Run ``fn(stage_dir)`` unless the stage finished before.

        ``fn`` writes its files into the folder and returns a JSON-able summary, stored in the
        marker and returned again on resume. A folder left by an interrupted attempt is cleared.
        """
        folder = self.stage_dir(name)
        if self.is_done(name):
            return self.stage_info(name)["result"]  # type: ignore[no-any-return]
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        started = _now()
        result = fn(folder)
        atomic_write_json(
            folder / DONE, {"stage": name, "started": started, "ended": _now(), "result": result}
        )
        return result

    def stages(self) -> dict[str, bool]:
        root = self.path / "stages"
        if not root.exists():
            return {}
        return {p.name: (p / DONE).exists() for p in sorted(root.iterdir()) if p.is_dir()}


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def config_changes(old_text: str, new_text: str) -> tuple[list[str], list[str]]:
    """(changed, added) between two config YAML texts, as dotted keys. ``changed`` holds keys
    whose value differs or that the new config lacks (``key: old -> new``); ``added`` holds keys
    only the new config has."""
    import yaml

    try:
        old, new = _flatten(yaml.safe_load(old_text)), _flatten(yaml.safe_load(new_text))
    except yaml.YAMLError:
        return ["config.yaml (unreadable)"], []
    changed = [
        f"{k}: {old[k]!r} -> {new.get(k, '<missing>')!r}"
        for k in old
        if k not in new or new[k] != old[k]
    ]
    return changed, [k for k in new if k not in old]


def _config_text(config: Any) -> str | None:
    if config is None:
        return None
    if hasattr(config, "to_yaml"):
        return str(config.to_yaml())
    import yaml

    return str(yaml.safe_dump(config, sort_keys=False))


def default_run_path(system: str, root: str | Path = "runs") -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{system}-{stamp}"
