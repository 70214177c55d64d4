"""The facade end to end (build -> train -> evaluate -> report) on the ``hf`` path with a small
stand-in model folder, as the paper preset runs it with a real chat model (a few steps only)."""

import json

from ennead.core.config import load_config
from ennead.persllm.api import PersLLM
from ennead.persllm.config import PersLLMConfig


def test_build_train_evaluate_report_on_a_stand_in_model(tmp_path, world_personas):
    from ennead.core.backends.tiny_model import build_tiny_model, build_tiny_tokenizer
    from ennead.persllm import train as T
    from ennead.persllm import world as W

    tok = build_tiny_tokenizer(W.vocabulary_texts())
    T.save_model(
        build_tiny_model(tok, hidden_size=16, num_layers=1, num_heads=2), tok, tmp_path / "m"
    )
    cfg = load_config(
        PersLLMConfig,
        "paper",
        [
            f"model.model={tmp_path / 'm'}",
            "model.launch=null",
            "model.sampler=hf",
            "build.teacher.kind=template",
            "build.embedder=hashing",
            "build.cot=false",
            "sft.max_steps=2",
            "sft.batch_size=4",
            "sft.max_length=64",
            "sft.max_prompt_length=48",
            "dpo.train.max_steps=2",
            "dpo.train.max_length=64",
            "dpo.train.max_prompt_length=48",
            "mix.general=0",
            "eval.max_new_tokens=4",
            "eval.bleu_prompts=1",
        ],
        package="ennead.persllm",
    )
    api = PersLLM(cfg)
    built = api.build(world_personas, tmp_path / "run")
    assert built.train_items > 50 and built.skipped == 0
    again = api.build(world_personas, tmp_path / "run")  # resumes: nothing new to write
    assert again.train_items == built.train_items
    trained = api.train(tmp_path / "run", world_personas)
    keys = sorted(p.name for p in world_personas.iterdir())
    assert all((tmp_path / "run" / "models" / k / "config.json").is_file() for k in keys)
    assert any(k.endswith("dpo_loss") for k in trained.metrics)
    res = api.evaluate(tmp_path / "run", world_personas)
    assert set(res.systems) == {"B0", "PersLLM"}
    for m in res.systems.values():
        assert 0.0 <= m["stance_consistency"] <= 1.0 and "bleu_inter" in m
        assert 0.0 <= m["trait_distance_inter"] <= 1.0  # the IPIP interview ran
    assert json.loads((tmp_path / "run" / "eval.json").read_text())["B0"]
    rep = api.report(tmp_path / "run")
    assert "PersLLM" in rep.artifacts["report_md"].read_text()
