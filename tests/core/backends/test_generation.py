import math

import pytest
import torch

from ennead.core.backends import load_backend
from ennead.core.backends.base import Completion, SamplingParams, cut_at_stop
from ennead.core.backends.processors import make_presence_penalty
from ennead.core.errors import BackendError, ConfigError, UnknownNameError

TEXTS = [
    "the capital of france is paris .",
    "the capital of italy is rome .",
    "a cat sat on the mat and a dog sat on the log .",
    "one two three four five six seven eight nine ten .",
]


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return load_backend("tiny", batch_size=4, options={"texts": TEXTS, "seed": 1})


def test_greedy_is_deterministic(tiny):
    p = SamplingParams(max_new_tokens=6)
    a = tiny.generate(["the capital of"], p)[0][0]
    b = tiny.generate(["the capital of"], p)[0][0]
    assert isinstance(a, Completion)
    assert a.text == b.text and a.token_ids == b.token_ids
    assert 1 <= len(a.token_ids) <= 6


def test_batched_equals_one_at_a_time(tiny):
    # Left padding and the attention mask must make batching invisible under greedy decoding.
    prompts = ["the capital of", "a cat sat on the mat and", "one two", "rome"]
    p = SamplingParams(max_new_tokens=5, min_new_tokens=5)
    batched = [r[0].token_ids for r in tiny.generate(prompts, p)]
    single = [tiny.generate([q], p)[0][0].token_ids for q in prompts]
    assert batched == single


def test_n_samples_differ_and_seed_reproduces(tiny):
    p = SamplingParams(n=4, temperature=1.5, max_new_tokens=8, min_new_tokens=8, seed=3)
    out = tiny.generate(["the capital of", "one two"], p)
    assert [len(r) for r in out] == [4, 4]
    assert len({tuple(c.token_ids) for c in out[0]}) > 1
    again = tiny.generate(["the capital of", "one two"], p)
    assert [c.token_ids for c in out[0]] == [c.token_ids for c in again[0]]


def test_stop_strings_truncate(tiny):
    free = tiny.generate(["one two"], SamplingParams(max_new_tokens=8, min_new_tokens=8))[0][0]
    words = free.text.split()
    assert len(words) >= 2
    stop = words[1]
    cut = tiny.generate(["one two"], SamplingParams(max_new_tokens=8, stop=[stop]))[0][0]
    assert stop not in cut.text
    assert cut.finish_reason == "stop"
    assert cut_at_stop("abc. def", ["."]) == ("abc", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)


def test_logprobs_match_loglikelihood(tiny):
    out = tiny.generate(["the capital of"], SamplingParams(max_new_tokens=4, logprobs=True))[0][0]
    assert out.logprobs is not None and len(out.logprobs) == len(out.token_ids)
    assert all(lp <= 0 for lp in out.logprobs)
    # the same continuation scored by a forward pass gives the same total
    tok = tiny.tokenizer
    prompt_ids = tok("the capital of")["input_ids"]
    ids = torch.tensor([prompt_ids + out.token_ids])
    with torch.no_grad():
        logits = tiny.model(ids).logits.float()
    lp = torch.log_softmax(logits[0, :-1], -1)
    manual = sum(lp[len(prompt_ids) - 1 + i, t].item() for i, t in enumerate(out.token_ids))
    assert math.isclose(out.cumulative_logprob, manual, abs_tol=1e-3)


def test_loglikelihood_equals_manual_sum(tiny):
    prompt, cont = "the capital of france is", " paris ."
    got = tiny.loglikelihood([(prompt, cont), ("one two", " three")])
    tok = tiny.tokenizer
    ctx = tok(prompt)["input_ids"]
    tgt = tok(cont, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = tiny.model(torch.tensor([ctx + tgt])).logits.float()
    lp = torch.log_softmax(logits[0, :-1], -1)
    manual = sum(lp[len(ctx) - 1 + i, t].item() for i, t in enumerate(tgt))
    assert math.isclose(got[0], manual, abs_tol=1e-4)
    assert got[1] < 0


def test_chat_template_used_for_messages(tiny):
    text = tiny.format_prompt([{"role": "user", "content": "hi"}])
    assert text.startswith("<|user|> hi") and text.endswith("<|assistant|>")
    out = tiny.generate(
        [[{"role": "user", "content": "the capital of"}]], SamplingParams(max_new_tokens=3)
    )
    assert len(out[0][0].token_ids) >= 1


def test_presence_penalty_processor_numbers():
    proc = make_presence_penalty(0.5, prompt_length=2)
    ids = torch.tensor([[7, 1, 3, 3, 0], [7, 7, 2, 2, 2]])  # prompt = first 2 tokens
    scores = torch.zeros(2, 8)
    out = proc(ids, scores)
    expected = torch.zeros(2, 8)
    expected[0, 3] = expected[0, 0] = -0.5  # generated 3, 3, 0: each penalised once
    expected[1, 2] = -0.5  # token 7 only in the prompt: not penalised
    assert torch.equal(out, expected)


def test_presence_penalty_changes_sampling(tiny):
    base = SamplingParams(max_new_tokens=10, min_new_tokens=10)
    plain = tiny.generate(["one two"], base)[0][0].token_ids
    pen = tiny.generate(["one two"], base.model_copy(update={"presence_penalty": 2.0}))[0][
        0
    ].token_ids
    assert len(set(pen)) >= len(set(plain))


def test_bad_inputs(tiny):
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=2.0)
    with pytest.raises(ValueError, match="temperature > 0"):
        SamplingParams(n=2)
    with pytest.raises(BackendError, match="message 0"):
        tiny.generate([[{"content": "no role"}]])
    with pytest.raises(UnknownNameError, match="did you mean 'tiny'"):
        load_backend("tinyy")
    with pytest.raises(BackendError, match="not found"):
        load_backend("hf", model="/nonexistent/model")
    with pytest.raises((ConfigError, ValueError), match="batch_size"):
        load_backend("tiny", batch_size=0)
