"""The paper preset's path on the CPU: a decoder without a mask token (a tiny Llama saved as a
model folder stands in for the 7B model), FewRel-format data, named adapters per task."""

from __future__ import annotations

import json

import pytest

from ennead.conpet.config import ConPETConfig
from ennead.conpet.harness import run_all
from ennead.conpet.streams import build_stream
from ennead.core.config import load_config
from ennead.core.runs import RunDir

torch = pytest.importorskip("torch")


def _paper_cfg(tmp_path, *extra: str) -> ConPETConfig:
    """The paper preset with a tiny Llama folder and a FewRel-format file standing in."""
    from ennead.core.backends.tiny_model import build_tiny_lm

    words = [f"w{i}" for i in range(30)]
    texts = [" ".join(words), "[E1] [/E1] [E2] [/E2] In this sentence , is the of ."]
    model, tok = build_tiny_lm(texts, hidden_size=32, num_layers=1, num_heads=2)
    model.save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    data = {
        f"P{r}": [
            {
                "tokens": [words[(r * 3 + k) % 30], "w1", words[(r + k) % 30]],
                "h": ["a", "Q", [[0]]],
                "t": ["b", "Q", [[2]]],
            }
            for k in range(10)
        ]
        for r in range(4)
    }
    (tmp_path / "fewrel.json").write_text(json.dumps(data))
    return load_config(
        ConPETConfig,
        "paper",
        [
            f"stream.path={tmp_path / 'fewrel.json'}",
            "stream.n_tasks=2",
            f"backbone.path={tmp_path / 'model'}",
            "backbone.device=cpu",
            "backbone.dtype=float32",
            "train.batches_per_task=2",
            "train.epochs=1",
            *extra,
        ],
        package="ennead.conpet",
    )


def test_paper_preset_runs_with_a_tiny_decoder(tmp_path):
    cfg = _paper_cfg(tmp_path, "train.launch=null")
    assert cfg.lora.r == 4 and cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.dynamic.mixed_batches and cfg.train.launch is None
    out = run_all(cfg, build_stream(cfg), RunDir.create(tmp_path / "run", cfg))
    m = out["methods"]
    assert set(m) == {"sequential", "static", "dynamic"}
    assert m["dynamic"]["tunable_ratio"] < 1.0 and len(m["static"]["cost"]) == 2


@pytest.mark.slow
def test_paper_preset_under_accelerate_launch_with_two_cpu_processes(tmp_path):
    """The paper preset launches under multi_gpu_zero2; here the same path on cpu_multi."""
    from ennead.conpet.api import ConPET

    assert load_config(ConPETConfig, "paper", package="ennead.conpet").train.launch == (
        "multi_gpu_zero2"
    )
    cfg = _paper_cfg(tmp_path, "train.launch=cpu_multi", "train.processes=2")
    res = ConPET(cfg).train(tmp_path / "run")
    assert set(res.methods) == {"sequential", "static", "dynamic"}
    assert json.loads((res.run_dir / "results.json").read_text())["processes"] == 2
    assert (res.run_dir / "ranks" / "rank1" / "stages" / "dynamic-task2" / "_DONE.json").is_file()
    # one named PEFT adapter per task + the selector, in the saved state
    state = torch.load(res.run_dir / "stages" / "dynamic-task2" / "state.pt", weights_only=True)
    names = {k.split(".lora_")[1].split(".")[1] for k in state["model"]}
    assert names == {"selector", "task1", "task2"}
