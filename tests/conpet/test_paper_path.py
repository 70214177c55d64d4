"""The paper preset's path on the CPU: a decoder without a mask token (a tiny Llama saved as a
model folder stands in for the 7B model), FewRel-format data, named adapters per task."""

from __future__ import annotations

import json

from ennead.conpet.config import ConPETConfig
from ennead.conpet.harness import run_all
from ennead.conpet.streams import build_stream
from ennead.core.config import load_config
from ennead.core.runs import RunDir


def test_paper_preset_runs_with_a_tiny_decoder(tmp_path):
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
    cfg = load_config(
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
        ],
        package="ennead.conpet",
    )
    assert cfg.lora.r == 4 and cfg.lora.target_modules == ["q_proj", "v_proj"]
    out = run_all(cfg, build_stream(cfg), RunDir.create(tmp_path / "run", cfg))
    m = out["methods"]
    assert set(m) == {"sequential", "static", "dynamic"}
    assert m["dynamic"]["tunable_ratio"] < 1.0 and len(m["static"]["cost"]) == 2
