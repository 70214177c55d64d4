"""The DPO loss and the sequence log-probabilities it is made of."""

import math

import torch

from ennead.core.train import completion_logps, dpo_loss, sequence_logps
from ennead.core.train.data import collate, encode

T = torch.tensor


def test_dpo_loss_matches_hand_computed_values():
    # loss = -log sigmoid(beta * ((pc - rc) - (pr - rr)))
    # pair 1: beta 0.5, pc=-1, pr=-3, rc=-2, rr=-2: margin 0.5 * ((-1+2) - (-3+2)) = 1.0
    #         loss = log(1 + e^-1) = 0.31326168751822286; rewards 0.5 and -0.5
    # pair 2: beta 0.5, pc=-5, pr=-4.6, rc=-6, rr=-4: margin 0.5 * ((-5+6) - (-4.6+4)) = 0.8
    #         loss = log(1 + e^-0.8) = 0.37110066594777763; rewards 0.5 and -0.3
    loss, chosen, rejected = dpo_loss(
        T([-1.0, -5.0]), T([-3.0, -4.6]), T([-2.0, -6.0]), T([-2.0, -4.0]), beta=0.5
    )
    assert torch.allclose(loss, T([0.31326168751822286, 0.37110066594777763]), atol=1e-6)
    assert torch.allclose(chosen, T([0.5, 0.5])) and torch.allclose(rejected, T([-0.5, -0.3]))
    # beta 0.1 on pc=-5, pr=-4, rc=-6, rr=-3: margin 0.1 * (1 - (-1)) = 0.2
    # loss = log(1 + e^-0.2) = 0.5981388693815918
    loss, _, _ = dpo_loss(T([-5.0]), T([-4.0]), T([-6.0]), T([-3.0]), beta=0.1)
    assert math.isclose(loss.item(), 0.5981388693815918, rel_tol=1e-6)


def test_conservative_dpo_label_smoothing():
    # eps 0.1, margin 1: 0.9 * log(1 + e^-1) + 0.1 * log(1 + e^1)
    #                  = 0.9 * 0.31326168751822286 + 0.1 * 1.3132616875182228 = 0.4132616875182229
    loss, _, _ = dpo_loss(T([-1.0]), T([-3.0]), T([-2.0]), T([-2.0]), 0.5, label_smoothing=0.1)
    assert math.isclose(loss.item(), 0.4132616875182229, rel_tol=1e-6)


def test_loss_is_log2_when_policy_equals_reference():
    chosen, rejected = T([-4.0, -7.5, -0.1]), T([-2.0, -9.0, -30.0])
    loss, rc, rr = dpo_loss(chosen, rejected, chosen.clone(), rejected.clone(), beta=0.3)
    assert torch.allclose(loss, torch.full((3,), math.log(2)))
    assert rc.abs().max() == 0 and rr.abs().max() == 0


def test_loss_gradient_pushes_chosen_up():
    pc = T([-2.0], requires_grad=True)
    pr = T([-2.0], requires_grad=True)
    loss, _, _ = dpo_loss(pc, pr, T([-2.0]), T([-2.0]), beta=0.1)
    loss.sum().backward()
    assert pc.grad.item() < 0 < pr.grad.item()  # descent raises chosen, lowers rejected


def test_sequence_logps_masks_prompt_and_padding(tiny_lm):
    model, tok = tiny_lm
    prompts = ["question : is the sky blue ? answer :", "is fire cold ?"]
    completions = ["yes", "no no no"]
    together = completion_logps(model, tok, prompts, completions, batch_size=2)
    alone = torch.cat(
        [completion_logps(model, tok, [p], [c]) for p, c in zip(prompts, completions)]
    )
    assert torch.allclose(together, alone, atol=1e-5)  # padding does not count

    # by hand for the first pair: sum of log p(token | prefix) over completion tokens + EOS
    ids, plen = encode(tok, prompts[0], completions[0], 512, 384)
    assert ids[-1] == tok.eos_token_id and len(ids) - plen == 2
    with torch.no_grad():
        logits = model(input_ids=T([ids])).logits[0].log_softmax(-1)
    manual = sum(logits[t - 1, ids[t]] for t in range(plen, len(ids)))
    assert math.isclose(together[0].item(), float(manual), abs_tol=1e-5)

    # the batch helper agrees, and average=True divides by the number of scored tokens
    batch = collate([(ids, plen)], tok.pad_token_id)
    with torch.no_grad():
        assert math.isclose(sequence_logps(model, batch).item(), float(manual), abs_tol=1e-5)
        assert math.isclose(
            sequence_logps(model, batch, average=True).item(), float(manual) / 2, abs_tol=1e-5
        )


def test_prompt_is_truncated_from_the_left_and_chat_strings_work(tiny_lm):
    model, tok = tiny_lm
    long = "question : is the sky blue ? answer :"
    short = "? answer :"  # its last three tokens
    kept = completion_logps(model, tok, [long], ["yes"], max_prompt_length=3)
    assert torch.allclose(kept, completion_logps(model, tok, [short], ["yes"]), atol=1e-5)
    ids, plen = encode(tok, long, "yes", max_length=5, max_prompt_length=3)
    assert plen == 3 and len(ids) == 5

    chat = tok.apply_chat_template(
        [{"role": "user", "content": "is ice cold ?"}], tokenize=False, add_generation_prompt=True
    )
    lp = completion_logps(model, tok, [chat], ["yes"])
    assert lp.shape == (1,) and torch.isfinite(lp).all() and lp.item() < 0
