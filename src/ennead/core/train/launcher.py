"""Run a training script under ``accelerate launch`` with a config shipped in the package.

    launch_config("multi_gpu_zero2")   # path of the YAML in ennead/core/train/launch/
    launch("ennead.core.train.dpo_cli", ["--pairs", "p.jsonl", "--out", "o"], "cpu_multi")

Shipped configs: ``cpu_multi`` (N CPU processes on one machine, gloo), ``single_gpu``,
``multi_gpu_zero2`` (DeepSpeed ZeRO-2, ``pip install 'ennead[gpu]'``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from ennead.core.errors import UnknownNameError

# accelerate builds a CPU (gloo) process group only when told to use the CPU, and its config file
# cannot say so for a torchrun-started job, so the environment does (the trainer also does this
# by itself when it finds no GPU).
_CONFIG_ENV = {"cpu_multi": {"ACCELERATE_USE_CPU": "1"}}


def _folder() -> Path:
    return Path(str(resources.files("ennead.core.train") / "launch"))


def launch_configs() -> list[str]:
    """Names of the shipped accelerate configs."""
    return sorted(p.stem for p in _folder().glob("*.yaml"))


def launch_config(name: str | Path) -> Path:
    """Path of a shipped accelerate config by name; a path to an existing YAML is returned as is."""
    text = str(name)
    if text.endswith((".yaml", ".yml")) and Path(text).is_file():
        return Path(text)
    known = launch_configs()
    if text not in known:
        raise UnknownNameError(
            "accelerate config", text, known, hint="Or pass the path of your own YAML file."
        )
    return _folder() / f"{text}.yaml"


def launch_command(
    script_or_module: str,
    args: Sequence[str] = (),
    config: str | Path = "cpu_multi",
    num_processes: int | None = None,
) -> list[str]:
    """The ``accelerate launch`` command; a name that is no ``.py`` and no file is a module."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    cmd += ["--config_file", str(launch_config(config))]
    if num_processes is not None:
        cmd += ["--num_processes", str(num_processes)]
    is_script = script_or_module.endswith(".py") or Path(script_or_module).is_file()
    if not is_script:
        cmd.append("--module")
    return [*cmd, script_or_module, *args]


def launch(
    script_or_module: str,
    args: Sequence[str] = (),
    config: str | Path = "cpu_multi",
    num_processes: int | None = None,
    *,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``accelerate launch --config_file <config> ...`` and return the finished process.

    Output is captured (``.stdout``/``.stderr``); a non-zero ``returncode`` is left to the caller.
    ``OMP_NUM_THREADS`` defaults to 1 so that N processes do not fight over the cores.
    """
    full_env = {
        **os.environ,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        **_CONFIG_ENV.get(str(config), {}),
        **(env or {}),
    }
    return subprocess.run(
        launch_command(script_or_module, args, config, num_processes),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )
