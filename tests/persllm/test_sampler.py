"""PersLLM evaluation samples through the config's sampler (eval.sampler): ct2 float32 gives the
hf answers to every greedy prompt on a small stand-in model."""

import json

import pytest

from ennead.core.config import load_config
from ennead.core.errors import ConfigError
from ennead.persllm.api import PersLLM
from ennead.persllm.config import PersLLMConfig

pytest.importorskip("ctranslate2")

GREEDY = (
    "stance_consistency",
    "induction_resistance",
    "stage_sensitivity",
    "fact_accuracy",
    "general_retention",
)


def _cfg(tmp_path, *extra):
    return load_config(
        PersLLMConfig,
        "paper",
        [
            f"model.model={tmp_path / 'm'}",
            "model.launch=null",
            "model.sampler=hf",
            "build.teacher.kind=template",
            "build.embedder=hashing",
            "build.cot=false",
            "sft.max_steps=3",
            "sft.batch_size=4",
            "sft.max_length=64",
            "sft.max_prompt_length=48",
            "dpo.enabled=false",
            "mix.general=0",
            "eval.max_new_tokens=6",
            "eval.bleu_prompts=1",
            "eval.questionnaire=false",
            *extra,
        ],
        package="ennead.persllm",
    )


def test_evaluate_with_ct2_sampler_gives_hf_greedy_answers(tmp_path, world_personas, monkeypatch):
    from ennead.core.backends.tiny_model import build_tiny_model, build_tiny_tokenizer
    from ennead.persllm import train as T
    from ennead.persllm import world as W

    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    tok = build_tiny_tokenizer(W.vocabulary_texts())
    T.save_model(
        build_tiny_model(tok, hidden_size=16, num_layers=1, num_heads=2), tok, tmp_path / "m"
    )
    run = tmp_path / "run"
    hf_api = PersLLM(_cfg(tmp_path))
    hf_api.build(world_personas, run)
    hf_api.train(run, world_personas)
    ref = hf_api.evaluate(run, world_personas)
    ref_rows = (run / "answers-PersLLM.jsonl").read_text()
    assert not (run / "sampler").exists()  # hf samples the objects: nothing saved

    ct2_api = PersLLM(_cfg(tmp_path, "eval.sampler=ct2"))
    assert ct2_api.config.eval.sampler.name == "ct2"
    got = ct2_api.evaluate(run, world_personas)
    for system in ("B0", "PersLLM"):
        for k in GREEDY:
            assert got.systems[system][k] == pytest.approx(ref.systems[system][k], nan_ok=True)
        assert "bleu_inter" in got.systems[system]
    # every greedy answer is the same text (rows carry the answers; BLEU samples are not stored)
    assert (run / "answers-PersLLM.jsonl").read_text() == ref_rows
    saved = sorted(p.name for p in (run / "sampler").iterdir() if p.is_dir())
    assert len(saved) == 3  # the base model and two persona models, each saved once
    assert json.loads((run / "eval.json").read_text())["PersLLM"]


def test_sampler_field_is_checked(tmp_path):
    with pytest.raises(ConfigError, match="threads"):
        _cfg(tmp_path, "eval.sampler={name: ct2, options: {threads: 2}}")
    cfg = load_config(PersLLMConfig, "smollm2", [], package="ennead.persllm")
    assert cfg.eval.sampler.name == "ct2"
    tiny = load_config(PersLLMConfig, "tiny", [], package="ennead.persllm")
    assert tiny.eval.sampler.name == "hf"  # the CI gate's numbers stay those of hf
