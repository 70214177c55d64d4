"""SFT: loss on completion tokens only."""

import math

import torch

from ennead.core.train import SFTConfig, completion_nll, train_sft
from ennead.core.train.data import collate, encode

from .conftest import TEXTS


def _examples():
    return [
        {"prompt": t.split(" answer :")[0] + " answer :", "completion": t.split()[-1]}
        for t in TEXTS
    ]


def test_sft_lowers_the_completion_loss(tiny_lm, tmp_path):
    model, tok = tiny_lm
    examples = _examples()
    before = completion_nll(model, tok, examples)
    cfg = SFTConfig(
        max_steps=30,
        batch_size=4,
        lr=3e-2,
        lora={"enabled": False},
        output_dir=str(tmp_path / "sft"),
    )
    res = train_sft(model, tok, examples, cfg)
    after = completion_nll(model, tok, examples)
    assert res.steps == 30 and all(math.isfinite(h["loss"]) for h in res.history)
    assert res.final_loss < res.first_loss
    assert after < before * 0.1  # full fine-tuning memorises four one-word answers
    assert (tmp_path / "sft" / "final" / "model.safetensors").is_file()


def test_sft_with_lora_trains_adapters(tiny_lm):
    model, tok = tiny_lm
    examples = _examples()
    before = completion_nll(model, tok, examples)
    res = train_sft(model, tok, examples, SFTConfig(max_steps=15, batch_size=4, lr=5e-2))
    assert completion_nll(res.model, tok, examples) < before


def test_prompt_tokens_carry_no_loss(tiny_lm):
    model, tok = tiny_lm
    ids, plen = encode(tok, "question : is the sky blue ? answer :", "yes", 512, 384)
    batch = collate([(ids, plen), (ids[:-1], plen)], tok.pad_token_id)
    labels = batch["labels"]
    assert (labels[:, :plen] == -100).all()  # prompt
    assert labels[1, -1] == -100  # padding
    assert labels[0, plen:].tolist() == ids[plen:]
    with torch.no_grad():
        out = model(**batch)
    assert torch.isfinite(out.loss)
