"""The shared transformers engine (hf / smollm2 / tiny), exercised on the tiny in-process Llama."""

import math

import pytest
import torch

from ennead.core.backends import load_backend
from ennead.core.backends.base import LM, Completion, SamplingParams, cut_at_stop
from ennead.core.backends.hf import HFBackend
from ennead.core.backends.processors import PresencePenaltyLogitsProcessor
from ennead.core.errors import BackendError, ConfigError, UnknownNameError

PROMPTS = ["the capital of", "a cat sat on the mat and", "one two", "rome", "the dog sat on", "x"]


def manual_logprobs(lm, ids, n):
    """Log-probs of the last ``n`` tokens of ``ids`` from one unpadded forward pass."""
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits.float()
    lp = torch.log_softmax(logits[0, :-1], -1)
    return [lp[len(ids) - n - 1 + i, t].item() for i, t in enumerate(ids[len(ids) - n :])]


def test_implements_the_protocol(tiny):
    assert isinstance(tiny, LM)
    assert tiny.name == "tiny"


def test_greedy_is_deterministic(tiny):
    p = SamplingParams(max_new_tokens=6)
    a = tiny.generate(["the capital of"], p)[0][0]
    b = tiny.generate(["the capital of"], p)[0][0]
    assert isinstance(a, Completion)
    assert a.text == b.text and a.token_ids == b.token_ids
    assert len(a.token_ids) == 6 and a.finish_reason == "length"


def test_batched_equals_one_at_a_time(tiny):
    # Prompts of different lengths in chunks of 4: left padding + mask must make batching invisible.
    p = SamplingParams(max_new_tokens=5, min_new_tokens=5)
    batched = [r[0].token_ids for r in tiny.generate(PROMPTS, p)]
    single = [tiny.generate([q], p)[0][0].token_ids for q in PROMPTS]
    assert batched == single
    assert len({tuple(b) for b in batched}) > 1  # different prompts, different outputs


def test_n_samples_differ_seed_reproduces_and_global_rng_untouched(tiny):
    p = SamplingParams(n=4, temperature=1.5, max_new_tokens=8, min_new_tokens=8, seed=3)
    state = torch.get_rng_state()
    out = tiny.generate(["the capital of", "one two"], p)
    assert torch.equal(state, torch.get_rng_state())  # seeding does not leak into the caller
    assert [len(r) for r in out] == [4, 4]
    assert len({tuple(c.token_ids) for c in out[0]}) > 1
    again = tiny.generate(["the capital of", "one two"], p)
    assert [c.token_ids for c in out[0]] == [c.token_ids for c in again[0]]
    other = tiny.generate(["the capital of", "one two"], p.model_copy(update={"seed": 4}))
    assert [c.token_ids for c in other[0]] != [c.token_ids for c in out[0]]


def test_model_generation_config_does_not_leak_in(tiny):
    p = SamplingParams(max_new_tokens=6)
    before = tiny.generate(["one two"], p)[0][0].token_ids
    cfg = tiny.model.generation_config
    cfg.repetition_penalty, cfg.no_repeat_ngram_size = 5.0, 1
    try:
        assert tiny.generate(["one two"], p)[0][0].token_ids == before
    finally:
        cfg.repetition_penalty = cfg.no_repeat_ngram_size = None
    assert len(set(before)) == 1  # the model repeats itself, so the knobs would have mattered


def test_top_p_tiny_mass_is_greedy(tiny):
    greedy = tiny.generate(PROMPTS[:3], SamplingParams(max_new_tokens=6))
    nucleus = SamplingParams(temperature=1.0, top_p=1e-6, max_new_tokens=6, seed=0)
    sampled = tiny.generate(PROMPTS[:3], nucleus)
    assert [r[0].token_ids for r in greedy] == [r[0].token_ids for r in sampled]


def test_stop_strings_truncate_text_and_tokens(tiny):
    free = tiny.generate(["one two"], SamplingParams(max_new_tokens=8, min_new_tokens=8))[0][0]
    words = free.text.split()
    assert len(words) >= 2
    stop = words[1]
    params = SamplingParams(max_new_tokens=8, stop=[stop], return_logprobs=True)
    cut = tiny.generate(["one two"], params)[0][0]
    assert stop not in cut.text and free.text.startswith(cut.text)
    assert cut.finish_reason == "stop"
    # tokens end with the one that completed the stop string; logprobs follow the tokens
    dec = tiny.tokenizer.decode
    assert stop in dec(cut.token_ids) and stop not in dec(cut.token_ids[:-1])
    assert len(cut.logprobs) == len(cut.token_ids)


def test_stop_in_batch_with_unstopped_rows(tiny):
    p = SamplingParams(max_new_tokens=6, min_new_tokens=6)
    free = [r[0] for r in tiny.generate(PROMPTS, p)]
    stop = free[0].text.split()[0]
    got = [r[0] for r in tiny.generate(PROMPTS, p.model_copy(update={"stop": [stop]}))]
    for f, g in zip(free, got):
        assert g.text == cut_at_stop(f.text, [stop])[0]
        assert g.finish_reason == ("stop" if stop in f.text else "length")


def test_generation_ends_once_every_row_has_stopped(tiny):
    # the random tiny model repeats the prompt's last word, so "two" appears at the first step
    calls = []
    hook = tiny.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        out = tiny.generate(["one two", "a cat sat one two"], SamplingParams(max_new_tokens=20))
        assert len(calls) == 20 and all(len(r[0].token_ids) == 20 for r in out)
        calls.clear()
        out = tiny.generate(
            ["one two", "a cat sat one two"], SamplingParams(max_new_tokens=20, stop=["two"])
        )
    finally:
        hook.remove()
    assert len(calls) == 1
    assert [(r[0].text, r[0].finish_reason, len(r[0].token_ids)) for r in out] == [
        ("", "stop", 1)
    ] * 2


def test_cut_at_stop():
    assert cut_at_stop("abc. def", ["."]) == ("abc", True)
    assert cut_at_stop("a;b.c", [".", ";"]) == ("a", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)


def test_eos_ends_a_completion(tiny):
    eos, pad = tiny.tokenizer.eos_token_id, tiny.pad_id
    seq = torch.tensor([5, 6, eos, pad, pad])
    c = tiny._completion(seq, None, 0, SamplingParams())
    assert c.token_ids == [5, 6] and c.finish_reason == "stop"
    c = tiny._completion(torch.tensor([5, 6, 7]), None, 0, SamplingParams())
    assert c.token_ids == [5, 6, 7] and c.finish_reason == "length"


def test_generation_logprobs_match_scoring(tiny):
    params = SamplingParams(max_new_tokens=4, return_logprobs=True)
    out = tiny.generate(["the capital of", "a cat sat on the mat and"], params)
    for prompt, row in zip(["the capital of", "a cat sat on the mat and"], out):
        c = row[0]
        assert c.logprobs is not None and len(c.logprobs) == len(c.token_ids)
        assert all(lp <= 0 for lp in c.logprobs)
        prompt_ids = tiny.tokenizer(prompt)["input_ids"]
        manual = manual_logprobs(tiny, prompt_ids + c.token_ids, len(c.token_ids))
        assert c.logprobs == pytest.approx(manual, abs=1e-4)
    assert tiny.generate(["x"], SamplingParams(max_new_tokens=2))[0][0].logprobs is None


def test_loglikelihood_equals_manual_sum(tiny):
    pairs = [("the capital of france is", " paris ."), ("one two", " three"), ("a", " cat sat")]
    got = tiny.loglikelihood(pairs)
    per_token = tiny.token_logprobs(pairs)
    tok = tiny.tokenizer
    for (prompt, cont), ll, row in zip(pairs, got, per_token):
        ctx = tok(prompt)["input_ids"]
        tgt = tok(cont, add_special_tokens=False)["input_ids"]
        manual = manual_logprobs(tiny, ctx + tgt, len(tgt))
        assert row == pytest.approx(manual, abs=1e-4)
        assert math.isclose(ll, sum(manual), abs_tol=1e-4)
    # scoring a pair alone or in a padded batch gives the same number
    assert tiny.loglikelihood(pairs[1:2])[0] == pytest.approx(got[1], abs=1e-4)


def test_chat_template_used_for_messages(tiny):
    chat = [{"role": "user", "content": "the capital of"}]
    text = tiny.format_prompt(chat)
    assert text.startswith("<|user|> the capital of") and text.endswith("<|assistant|>")
    p = SamplingParams(max_new_tokens=4)
    assert tiny.generate([chat], p)[0][0].token_ids == tiny.generate([text], p)[0][0].token_ids
    assert tiny.chat(chat, p) == tiny.generate([text], p)[0][0].text
    assert tiny.loglikelihood([(chat, " paris")]) == pytest.approx(
        tiny.loglikelihood([(text, " paris")]), abs=1e-5
    )


def test_presence_penalty_processor_numbers():
    proc = PresencePenaltyLogitsProcessor(0.5, prompt_length=2)
    ids = torch.tensor([[7, 1, 3, 3, 0], [7, 7, 2, 2, 2]])  # prompt = first 2 tokens
    scores = torch.arange(16, dtype=torch.float).reshape(2, 8)
    out = proc(ids, scores)
    expected = scores.clone()
    expected[0, 3] -= 0.5  # generated 3, 3: penalised once, not twice
    expected[0, 0] -= 0.5
    expected[1, 2] -= 0.5  # token 7 appears only in the prompt: not penalised
    assert torch.equal(out, expected)
    assert torch.equal(proc(ids[:, :2], scores), scores)  # nothing generated yet


def test_presence_penalty_changes_generation(tiny):
    # The random tiny model repeats one token under greedy decoding; a penalty of 2 outweighs
    # its small logit differences, so no generated token may repeat.
    base = SamplingParams(max_new_tokens=10, min_new_tokens=10)
    plain = tiny.generate(["one two"], base)[0][0].token_ids
    pen = tiny.generate(["one two"], base.model_copy(update={"presence_penalty": 2.0}))[0][0]
    assert len(set(plain)) < len(plain)
    assert len(set(pen.token_ids)) == len(pen.token_ids)


def test_max_input_tokens_keeps_the_end(tiny):
    short = HFBackend.from_model(tiny.model, tiny.tokenizer, max_input_tokens=2)
    p = SamplingParams(max_new_tokens=4)
    long_prompt = "a cat sat on the mat and"
    assert (
        short.generate([long_prompt], p)[0][0].token_ids
        == tiny.generate(["mat and"], p)[0][0].token_ids
    )


def test_from_model_leaves_model_and_tokenizer_alone(tiny):
    tok = tiny.tokenizer
    tok.padding_side = "right"
    tiny.model.train()
    try:
        lm = HFBackend.from_model(tiny.model, tok, batch_size=2)
        lm.generate(["one two"], SamplingParams(max_new_tokens=2))
        lm.loglikelihood([("one", " two")])
        assert tok.padding_side == "right" and tiny.model.training
    finally:
        tiny.model.eval()
        tok.padding_side = "left"


def test_bad_inputs(tiny):
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=2.0)
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=-1)
    with pytest.raises(ValueError, match="temperature > 0"):
        SamplingParams(n=2)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0)
    with pytest.raises(ValueError, match="logprobs"):
        SamplingParams(logprobs=True)  # the field is return_logprobs
    with pytest.raises(BackendError, match="message 0"):
        tiny.generate([[{"content": "no role"}]])
    with pytest.raises(BackendError, match="prompt 1 is empty"):
        tiny.generate(["ok", ""])
    with pytest.raises(BackendError, match="pair 0: the continuation must be"):
        tiny.loglikelihood([("one", "")])
    with pytest.raises(BackendError, match="prompt is empty"):
        tiny.loglikelihood([("", "one")])
    with pytest.raises(UnknownNameError, match="did you mean 'tiny'"):
        load_backend("tinyy")
    with pytest.raises(ConfigError, match="batch_size"):
        load_backend("tiny", batch_size=0)
    with pytest.raises(ConfigError, match="unknown key 'batchsize'"):
        load_backend("tiny", batchsize=2)
    with pytest.raises(BackendError, match="unknown tiny backend options: colour"):
        load_backend("tiny", options={"colour": 1})
