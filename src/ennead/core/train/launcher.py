"""Run a training script under ``accelerate launch`` with a config shipped in the package.

launch_config("multi_gpu_zero2")  -> path of the YAML
launch(["-m", "ennead.core.train.run", "--pairs", "p.jsonl", "--out", "o"], "cpu_multi")
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from ennead.core.errors import UnknownNameError

# accelerate only builds a gloo process group on the CPU when told to use the CPU; the config file
# cannot say so without switching to its single-process launcher, so the environment does.
CONFIG_ENV = {"cpu_multi": {"ACCELERATE_USE_CPU": "1"}}


def launch_configs() -> list[str]:
    folder = Path(str(resources.files("ennead.core.train") / "launch"))
    return sorted(p.stem for p in folder.glob("*.yaml"))


def launch_config(name: str) -> Path:
    """Path of a shipped accelerate config by name, or a user YAML path as is."""
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        return Path(name)
    known = launch_configs()
    if name not in known:
        raise UnknownNameError("accelerate config", name, known)
    return Path(str(resources.files("ennead.core.train") / "launch" / f"{name}.yaml"))


def launch_command(
    args: Sequence[str], config: str = "cpu_multi", num_processes: int | None = None
) -> list[str]:
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(launch_config(config))]  # fmt: skip
    if num_processes is not None:
        cmd += ["--num_processes", str(num_processes)]
    return cmd + list(args)


def launch(
    args: Sequence[str],
    config: str = "cpu_multi",
    num_processes: int | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``accelerate launch`` and return the finished process (output captured)."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **CONFIG_ENV.get(config, {}), **(env or {})}
    return subprocess.run(
        launch_command(args, config, num_processes),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )
