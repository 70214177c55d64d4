"""The vllm backend: the missing extra, the mapping onto vLLM's API (with a stand-in module), and
a real run on a GPU machine (marked ``gpu``)."""

import sys
import types
from dataclasses import dataclass, field

import pytest

from ennead.core.backends import load_backend
from ennead.core.backends.base import SamplingParams
from ennead.core.errors import MissingExtraError


def test_missing_vllm_names_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now fails as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'ennead\[gpu\]'"):
        load_backend("vllm", model="x")


@dataclass
class Logprob:
    logprob: float


@dataclass
class Output:
    text: str
    token_ids: list
    logprobs: list | None
    finish_reason: str


@dataclass
class RequestOutput:
    outputs: list
    prompt_logprobs: list | None = None


@dataclass
class FakeLLM:
    """Records calls; 'generates' token ids 7, 8 and scores prompt token t with -t/10."""

    tokenizer: object
    calls: list = field(default_factory=list)

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, inputs, sp, lora_request=None):
        self.calls.append((inputs, sp))
        out = []
        for inp in inputs:
            ids = inp["prompt_token_ids"]
            lps = [{7: Logprob(-0.5)}, {8: Logprob(-0.25)}] if sp.logprobs is not None else None
            outs = [Output(f"seven eight.{k}", [7, 8], lps, "length") for k in range(sp.n)]
            plp = [None] + [{t: Logprob(-t / 10)} for t in ids[1:]]
            out.append(RequestOutput(outs, plp if sp.prompt_logprobs is not None else None))
        return out


@pytest.fixture
def fake_vllm(monkeypatch, tiny):
    mod = types.ModuleType("vllm")
    made = {}

    class SP:
        def __init__(self, **kw):
            self.__dict__.update(kw)
            self.prompt_logprobs = kw.get("prompt_logprobs")

    def llm(model, dtype, **opts):
        made["llm"] = FakeLLM(tiny.tokenizer)
        made["args"] = (model, dtype, opts)
        return made["llm"]

    mod.LLM, mod.SamplingParams = llm, SP
    monkeypatch.setitem(sys.modules, "vllm", mod)
    return made


def test_vllm_mapping(fake_vllm, tiny):
    lm = load_backend("vllm", model="/m", options={"gpu_memory_utilization": 0.5})
    assert fake_vllm["args"] == ("/m", "auto", {"gpu_memory_utilization": 0.5})
    params = SamplingParams(
        n=2,
        temperature=0.8,
        top_p=0.9,
        max_new_tokens=7,
        stop=["."],
        presence_penalty=1.0,
        seed=5,
        return_logprobs=True,
    )
    chat = [{"role": "user", "content": "one two"}]
    out = lm.generate(["one two", chat], params)
    inputs, sp = fake_vllm["llm"].calls[-1]
    assert (sp.n, sp.temperature, sp.top_p, sp.max_tokens, sp.presence_penalty, sp.seed) == (
        2,
        0.8,
        0.9,
        7,
        1.0,
        5,
    )
    assert sp.stop == ["."] and sp.logprobs == 0
    # prompts go as token ids; the chat through the template
    assert inputs[0]["prompt_token_ids"] == tiny.tokenizer("one two")["input_ids"]
    assert (
        inputs[1]["prompt_token_ids"]
        == tiny.tokenizer(tiny.format_prompt(chat), add_special_tokens=False)["input_ids"]
    )
    assert [c.text for c in out[0]] == ["seven eight", "seven eight"]
    assert out[0][0].finish_reason == "stop" and out[0][0].logprobs == [-0.5, -0.25]


def test_vllm_scoring_reads_prompt_logprobs(fake_vllm, tiny):
    lm = load_backend("vllm", model="/m")
    cont_ids = tiny.tokenizer(" three four", add_special_tokens=False)["input_ids"]
    got = lm.token_logprobs([("one two", " three four")])
    assert got == [[-t / 10 for t in cont_ids]]
    _, sp = fake_vllm["llm"].calls[-1]
    assert sp.prompt_logprobs == 1 and sp.max_tokens == 1
    assert lm.loglikelihood([("one two", " three four")]) == [pytest.approx(sum(got[0]))]


@pytest.mark.gpu
def test_real_vllm_on_smollm2():
    pytest.importorskip("vllm")
    from ennead.core.assets import smollm2_path

    lm = load_backend("vllm", model=str(smollm2_path()), options={"gpu_memory_utilization": 0.3})
    out = lm.chat(
        [{"role": "user", "content": "What is the capital of France?"}],
        SamplingParams(max_new_tokens=24),
    )
    assert "Paris" in out
    good, bad = lm.loglikelihood(
        [("The capital of France is", " Paris"), ("The capital of France is", " Berlin")]
    )
    assert good > bad
