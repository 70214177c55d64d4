"""accelerate launch configs, and two DPO steps on two CPU processes (the acceptance test)."""

import json
import math
import sys

import pytest

from ennead.core.errors import UnknownNameError
from ennead.core.io import read_jsonl, write_jsonl
from ennead.core.train import launch, launch_command, launch_config, launch_configs

from .conftest import make_pairs


def test_launch_configs_resolve_by_name():
    assert {"cpu_multi", "single_gpu", "multi_gpu_zero2"} <= set(launch_configs())
    import yaml

    zero2 = yaml.safe_load(launch_config("multi_gpu_zero2").read_text())
    assert zero2["distributed_type"] == "DEEPSPEED" and zero2["deepspeed_config"]["zero_stage"] == 2
    assert yaml.safe_load(launch_config("cpu_multi").read_text())["num_processes"] == 2
    with pytest.raises(UnknownNameError, match="did you mean 'cpu_multi'"):
        launch_config("cpu_mult")


def test_launch_command_for_modules_and_scripts(tmp_path):
    cmd = launch_command("ennead.core.train.dpo_cli", ["--out", "o"], "single_gpu", 1)
    assert cmd[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert cmd[cmd.index("--config_file") + 1] == str(launch_config("single_gpu"))
    assert cmd[cmd.index("--num_processes") + 1] == "1"
    assert cmd[-4:] == ["--module", "ennead.core.train.dpo_cli", "--out", "o"]
    own = tmp_path / "mine.yaml"
    own.write_text("distributed_type: 'NO'\n")
    cmd = launch_command("train.py", [], own)
    assert "--module" not in cmd and cmd[-1] == "train.py" and str(own) in cmd


def test_two_dpo_steps_under_accelerate_launch_on_two_cpu_processes(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", make_pairs())
    out = tmp_path / "out"
    proc = launch(
        "ennead.core.train.dpo_cli",
        [
            "--pairs",
            str(tmp_path / "pairs.jsonl"),
            "--out",
            str(out),
            "--set",
            "max_steps=2",
            "--set",
            "batch_size=1",
            "--set",
            "grad_accumulation=2",
            "--set",
            "lr=1e-2",
        ],
        config="cpu_multi",
        num_processes=2,
        timeout=300,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in sorted(out.glob("result-rank*.json"))]
    assert [r["rank"] for r in records] == [0, 1], "both ranks must have run"
    assert all(r["world"] == 2 and r["steps"] == 2 for r in records)
    assert all(math.isfinite(r["final_loss"]) for r in records)
    # the loss is averaged over the processes, so both report the same numbers
    assert records[0]["final_loss"] == pytest.approx(records[1]["final_loss"])
    # gradients were all-reduced: both replicas hold the same weights after the steps
    assert records[0]["param_checksum"] == pytest.approx(records[1]["param_checksum"], abs=1e-9)
    assert math.isclose(records[0]["first_loss"], math.log(2), abs_tol=1e-5)
    assert (out / "train" / "checkpoint-2" / "trainer_state.json").is_file()
    assert (out / "train" / "checkpoint-2" / "random_states_1.pkl").is_file()
    assert (out / "train" / "final" / "adapter_config.json").is_file()
    assert [r["step"] for r in read_jsonl(out / "run" / "metrics.jsonl")] == [1, 2]
