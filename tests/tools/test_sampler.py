"""The study samples the untuned and LoRA-tuned student through train.sampler: ct2 float32 plays
the hf episodes (all greedy) on the tiny model, from a merged copy saved once per weights. (The
random tiny model's replies decode to empty text here, so this checks the wiring and the episodes;
token-level equality is in tests/core/test_sampling_backend.py.)"""

import json

import pytest

from ennead.core.errors import ConfigError
from ennead.tools.config import ToolsConfig
from ennead.tools.study import run_study

pytest.importorskip("ctranslate2")


def _cfg(sampler):
    return ToolsConfig.model_validate(
        {
            "policy": {"kind": "lm", "backend": "tiny"},
            "agent": {"retrieve_k": 2},
            "train": {
                "student": "tiny",
                "steps": 1,
                "batch_size": 2,
                "max_input_tokens": 400,
                "sampler": sampler,
            },
            "study": {
                "seeds": [0],
                "sizes": {"inst": 2, "unsolvable": 1, "tool": 1, "cat": 1},
                "new_tokens": 6,
                "react_steps": 2,
                "dfsdt_steps": 1,
                "budget": 2,
                "bootstrap": 100,
            },
        }
    )


def _traces(folder):
    return [
        [s["raw"] for s in json.loads(line)["steps"]]
        for line in (folder / "react_traces.jsonl").read_text().splitlines()
    ]


def test_study_on_ct2_float32_plays_the_hf_episodes(tmp_path, monkeypatch):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    run_study(_cfg("hf"), tmp_path / "hf")
    assert not (tmp_path / "hf" / "sampler").exists()
    spec = {"name": "ct2", "options": {"intra_threads": 1}}
    run_study(_cfg(spec), tmp_path / "ct2")
    for tag in ("untuned", "tuned-seed0"):
        hf_recs = (tmp_path / "hf" / tag / "react_records.jsonl").read_text()
        ct2_recs = (tmp_path / "ct2" / tag / "react_records.jsonl").read_text()
        assert ct2_recs == hf_recs
        assert _traces(tmp_path / "ct2" / tag) == _traces(tmp_path / "hf" / tag)
    saved = [p for p in (tmp_path / "ct2" / "sampler").iterdir() if p.is_dir()]
    # untuned (saved once for ReAct and DFSDT) and the tuned model with its LoRA merged
    assert len(saved) == 2
    assert not any((p / "adapter_config.json").exists() for p in saved)
    converted = [p for p in (tmp_path / "cache" / "ct2").iterdir() if p.is_dir()]
    assert len(converted) == 2 and all(p.name.endswith("-float32") for p in converted)


def test_sampler_field_is_checked():
    with pytest.raises(ValueError, match="ct2 sampler only"):
        ToolsConfig.model_validate({"train": {"sampler": {"name": "hf", "options": {"x": 1}}}})
    from ennead.core.config import load_config

    cfg = load_config(ToolsConfig, "smollm2", [], package="ennead.tools")
    assert cfg.train.sampler.name == "ct2"
    with pytest.raises(ConfigError, match="sampler"):
        load_config(ToolsConfig, "smollm2", ["train.sampler=vllm"], package="ennead.tools")
