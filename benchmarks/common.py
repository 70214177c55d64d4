"""Shared helpers for benchmarks: machine facts and JSON results beside the numbers."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from ennead.core.io import atomic_write_json
from ennead.core.runs import git_sha, package_versions

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def write_result(name: str, numbers: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` and echo it."""
    payload = {
        "benchmark": name,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "git_sha": git_sha(),
        "machine": machine(),
        "versions": package_versions(),
        "results": numbers,
    }
    path = atomic_write_json(RESULTS / f"{name}.json", payload)
    print(json.dumps(numbers, indent=2))
    print(f"written: {path}")
    return path
