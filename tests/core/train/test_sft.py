import math

from ennead.core.train import SFTConfig, completion_nll, train_sft

from .conftest import TEXTS


def test_sft_lowers_completion_loss(tiny_lm):
    model, tok = tiny_lm
    examples = [{"prompt": t.split(" answer :")[0] + " answer :", "completion": " " + t.split()[-1]}
                for t in TEXTS]  # fmt: skip
    before = completion_nll(model, tok, examples)
    res = train_sft(
        model,
        tok,
        examples,
        SFTConfig(max_steps=30, batch_size=4, lr=3e-2, lora={"enabled": False}),
    )
    after = completion_nll(model, tok, examples)
    assert math.isfinite(res.final_loss)
    assert after < before * 0.1  # full fine-tuning memorises four answers
