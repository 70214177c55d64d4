"""DPO training on the tiny Llama: LoRA, learning, accumulation, checkpoints, bad input."""

import math

import pytest
import torch

from ennead.core.config import load_config
from ennead.core.errors import ConfigError, DataError, StageError
from ennead.core.runs import RunDir
from ennead.core.train import DPOConfig, apply_lora, train_dpo
from ennead.core.train import trainer as trainer_mod
from ennead.core.train.lora import is_peft_model, lora_parameters

from .conftest import make_tiny


def _snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_two_steps_train_only_the_adapters(tiny_lm, pairs, tmp_path):
    model, tok = tiny_lm
    cfg = DPOConfig(max_steps=2, batch_size=2, lr=1e-2, output_dir=str(tmp_path / "out"))
    model = apply_lora(model, cfg.lora)  # added here only to see the adapters before training
    before = _snapshot(model)
    run = RunDir.create(tmp_path / "run", cfg)
    res = train_dpo(model, tok, pairs, cfg, run_dir=run)

    assert res.steps == 2 and len(res.history) == 2
    assert all(math.isfinite(h["loss"]) for h in res.history)
    assert math.isclose(res.first_loss, math.log(2), abs_tol=1e-5)  # policy == reference at first
    assert res.model is model and is_peft_model(model)
    lora = lora_parameters(model)
    assert len(lora) == 4  # A and B on q_proj and v_proj of the one layer
    for name, p in model.named_parameters():
        if "lora_" in name:  # B moves in step 1, A in step 2 (its gradient needs B != 0)
            assert not torch.equal(p, before[name]), f"adapter {name} did not move"
        else:
            assert torch.equal(p, before[name]), f"base weight {name} changed"

    final = tmp_path / "out" / "final"
    assert (final / "adapter_config.json").is_file() and (final / "tokenizer.json").is_file()
    ckpt = tmp_path / "out" / "checkpoint-2"
    assert (ckpt / "trainer_state.json").is_file() and (ckpt / "adapter").is_dir()
    assert not list(ckpt.glob("model*.safetensors")), "checkpoints hold adapters, not base weights"
    assert res.checkpoint == str(ckpt)
    rows = run.read_metrics()
    assert [r["step"] for r in rows] == [1, 2]
    for key in ("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracy", "rewards/margin"):
        assert key in rows[0]


def test_dpo_learns_a_trivial_preference(tiny_lm, pairs):
    model, tok = tiny_lm
    cfg = DPOConfig(max_steps=30, batch_size=4, lr=2e-2, beta=0.5, seed=1)
    res = train_dpo(model, tok, pairs, cfg)
    first, last = res.history[0], res.history[-1]
    assert first["rewards/accuracy"] == 0.0  # rewards are all zero before any update
    assert last["rewards/accuracy"] == 1.0
    assert last["rewards/margin"] > 0.3
    assert last["loss"] < first["loss"] - 0.15


def test_reference_on_the_fly_matches_precomputed(pairs):
    losses = []
    for precompute in (True, False):
        model, tok = make_tiny()
        cfg = DPOConfig(max_steps=3, batch_size=2, lr=1e-2, precompute_ref=precompute)
        losses.append([h["loss"] for h in train_dpo(model, tok, pairs, cfg).history])
    assert math.isclose(losses[1][0], math.log(2), abs_tol=1e-5)
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)


def test_full_finetune_with_frozen_reference_copy(pairs):
    model, tok = make_tiny()
    cfg = DPOConfig(
        max_steps=2, batch_size=2, lr=1e-2, precompute_ref=False, lora={"enabled": False}
    )
    res = train_dpo(model, tok, pairs, cfg)
    assert not is_peft_model(res.model) and res.model is model
    assert math.isclose(res.first_loss, math.log(2), abs_tol=1e-5)


def test_gradient_accumulation_matches_one_big_batch(pairs):
    deltas = []
    for batch_size, accumulation in ((4, 1), (2, 2)):
        model, tok = make_tiny()
        before = _snapshot(model)
        # one plain SGD step, lr 1: the update is exactly minus the gradient
        cfg = DPOConfig(
            max_steps=1,
            batch_size=batch_size,
            grad_accumulation=accumulation,
            lr=1.0,
            optimizer="sgd",
            max_grad_norm=None,
            lora={"enabled": False},
        )
        train_dpo(model, tok, pairs, cfg)
        deltas.append({n: p.detach() - before[n] for n, p in model.named_parameters()})
    moved = 0
    for name, delta in deltas[0].items():
        assert torch.allclose(delta, deltas[1][name], rtol=1e-4, atol=1e-7), name
        moved += int(delta.abs().max() > 0)
    assert moved >= 5


class Crash(RuntimeError):
    pass


def test_resume_after_a_crash_gives_the_same_parameters(pairs, tmp_path, monkeypatch):
    # LoRA dropout on: equal results need the RNG state restored too
    common = {
        "max_steps": 6,
        "batch_size": 2,
        "lr": 1e-2,
        "checkpoint_every": 2,
        "seed": 3,
        "lora": {"dropout": 0.1},
    }
    model, tok = make_tiny()
    full = train_dpo(model, tok, pairs, DPOConfig(output_dir=str(tmp_path / "a"), **common))
    expected = _snapshot(full.model)
    kept = sorted(p.name for p in (tmp_path / "a").glob("checkpoint-*"))
    assert kept == ["checkpoint-4", "checkpoint-6"]  # keep_checkpoints=2 prunes the oldest

    real_save = trainer_mod.save_checkpoint

    def save_then_crash(acc, out, step, state, keep):
        path = real_save(acc, out, step, state, keep)
        if step == 4:
            raise Crash("killed after the step-4 checkpoint")
        return path

    monkeypatch.setattr(trainer_mod, "save_checkpoint", save_then_crash)
    cfg = DPOConfig(output_dir=str(tmp_path / "b"), **common)
    model, tok = make_tiny()
    with pytest.raises(Crash):
        train_dpo(model, tok, pairs, cfg)
    monkeypatch.setattr(trainer_mod, "save_checkpoint", real_save)
    # a half-written checkpoint folder must not count
    (tmp_path / "b" / "checkpoint-5").mkdir()

    with pytest.raises(StageError, match="resume=True"):
        train_dpo(*make_tiny(), pairs, cfg)
    model, tok = make_tiny()
    resumed = train_dpo(model, tok, pairs, cfg, resume=True)
    assert resumed.resumed_from == 4 and resumed.steps == 6 and len(resumed.history) == 2
    assert resumed.final_loss == pytest.approx(full.final_loss, abs=1e-6)
    for name, p in resumed.model.named_parameters():
        assert torch.allclose(p, expected[name], atol=1e-6), name
    assert (tmp_path / "b" / trainer_mod.REF_CACHE).is_file()


def test_bad_pairs_raise_data_error_naming_index_and_key(tiny_lm):
    model, tok = tiny_lm
    good = {"prompt": "a", "chosen": "b", "rejected": "c"}
    with pytest.raises(DataError, match="pair 1: missing key 'rejected'"):
        train_dpo(model, tok, [good, {"prompt": "a", "chosen": "b"}])
    with pytest.raises(DataError, match="pair 0: 'chosen' is empty"):
        train_dpo(model, tok, [{**good, "chosen": "  "}])
    with pytest.raises(DataError, match="pair 2: 'prompt' must be a string, got int"):
        train_dpo(model, tok, [good, good, {**good, "prompt": 3}])
    with pytest.raises(DataError, match="pair 0: expected a dict"):
        train_dpo(model, tok, [("a", "b", "c")])
    with pytest.raises(DataError, match="no pairs"):
        train_dpo(model, tok, [])
    assert not is_peft_model(model)  # rejected before anything touched the model


def test_bad_config_raises_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"unknown key 'lora.rank'.*allowed keys: alpha"):
        load_config(DPOConfig, None, ["lora.rank=4"])
    with pytest.raises(ConfigError, match=r"unknown key 'betta' \(did you mean 'beta'\?\)"):
        load_config(DPOConfig, None, ["betta=0.2"])
    with pytest.raises(ConfigError, match="max_prompt_length"):
        load_config(DPOConfig, None, ["max_length=64", "max_prompt_length=64"])
    with pytest.raises(ConfigError, match="backend"):
        load_config(DPOConfig, None, ["backend=deepspeed"])
    cfg = load_config(DPOConfig, None, ["beta=0.2", "lora.r=4", "lora.target_modules=[q_proj]"])
    assert cfg.beta == 0.2 and cfg.lora.r == 4 and cfg.lora.to_peft().r == 4
