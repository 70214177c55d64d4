"""The ``ct2`` backend against ``hf`` on the same saved tiny model (and SmolLM2, slow).

Tolerance for log-probabilities: 1e-4 absolute per token (both run float32 on the CPU; the
kernels differ, measured differences are near 1e-6).
"""

import json

import pytest

from ennead.core.backends import load_backend
from ennead.core.backends.base import SamplingParams
from ennead.core.errors import BackendError

pytest.importorskip("ctranslate2")

LP_TOL = 1e-4
PROMPTS = [
    "one two",
    "the capital of",
    "a cat sat on the",
    "the capital of italy is",
    "five six seven",
    [{"role": "user", "content": "the capital of france"}],
]
PAIRS = [
    ("one two", " three four"),
    ("the capital of france is", " paris ."),
    ([{"role": "user", "content": "a cat"}], "sat on the mat"),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private ennead cache for this module's conversions."""
    folder = tmp_path_factory.mktemp("ennead-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("ENNEAD_CACHE", str(folder))
    yield folder
    mp.undo()


@pytest.fixture(scope="module")
def hf(saved):
    return load_backend("hf", model=str(saved), device="cpu", batch_size=2)


@pytest.fixture(scope="module")
def ct2(saved, cache):
    return load_backend(
        "ct2", model=str(saved), device="cpu", batch_size=2, options={"intra_threads": 1}
    )


def ids(rows):
    return [[c.token_ids for c in row] for row in rows]


def test_greedy_float32_equals_hf_token_for_token(ct2, hf):
    params = SamplingParams(max_new_tokens=8)
    got, want = ct2.generate(PROMPTS, params), hf.generate(PROMPTS, params)
    assert ids(got) == ids(want)
    assert [r[0].text for r in got] == [r[0].text for r in want]
    assert [r[0].finish_reason for r in got] == [r[0].finish_reason for r in want]
    assert ct2.format_prompt(PROMPTS[-1]) == hf.format_prompt(PROMPTS[-1])
    assert ct2.engine == "ct2" and ct2.compute_type == "float32"


def test_scores_match_hf_within_tolerance(ct2, hf):
    got, want = ct2.token_logprobs(PAIRS), hf.token_logprobs(PAIRS)
    assert [len(r) for r in got] == [len(r) for r in want]
    for a, b in zip(got, want):
        assert a == pytest.approx(b, abs=LP_TOL)
    assert ct2.loglikelihood(PAIRS) == pytest.approx(hf.loglikelihood(PAIRS), abs=5 * LP_TOL)


def test_generation_logprobs_are_the_raw_model_distribution(ct2, hf):
    params = SamplingParams(max_new_tokens=5, return_logprobs=True)
    got, want = ct2.generate(PROMPTS[:3], params), hf.generate(PROMPTS[:3], params)
    for a, b in zip(got, want):
        assert a[0].token_ids == b[0].token_ids
        assert a[0].logprobs == pytest.approx(b[0].logprobs, abs=LP_TOL)


def test_seeded_sampling_repeats_and_gives_n_per_prompt(ct2):
    p = SamplingParams(n=3, temperature=1.0, max_new_tokens=6, seed=11)
    a, b = ct2.generate(PROMPTS, p), ct2.generate(PROMPTS, p)
    assert [len(r) for r in a] == [3] * len(PROMPTS)
    assert ids(a) == ids(b)
    other = ct2.generate(PROMPTS, p.model_copy(update={"seed": 12}))
    assert ids(other) != ids(a)
    # a random tiny model at temperature 1 rarely repeats itself across 3 samples of 6 tokens
    assert sum(len({tuple(c.token_ids) for c in row}) > 1 for row in a) >= len(PROMPTS) // 2


def test_stream_seeding_repeats_across_fresh_backends(saved, cache):
    def fresh():
        opts = {"intra_threads": 1, "seeding": "stream"}
        return load_backend("ct2", model=str(saved), options=opts)

    p = SamplingParams(n=2, temperature=1.0, max_new_tokens=6, seed=4)
    one, two = fresh(), fresh()
    first = [ids(one.generate(PROMPTS, p)) for _ in range(2)]
    assert first == [ids(two.generate(PROMPTS, p)) for _ in range(2)]
    assert first[0] != first[1]  # one stream: a repeated call draws new samples


def test_top_p_and_penalty_options_are_honoured(ct2, saved, cache):
    narrow = SamplingParams(n=4, temperature=1.0, top_p=1e-6, max_new_tokens=4, seed=3)
    greedy = ct2.generate(PROMPTS[:2], SamplingParams(max_new_tokens=4))
    # top_p near 0 keeps only the best token: sampling becomes greedy
    for row, g in zip(ct2.generate(PROMPTS[:2], narrow), greedy):
        assert all(c.token_ids == g[0].token_ids for c in row)
    # the random tiny model repeats one token greedily; a strong penalty breaks the repetition
    plain = ct2.generate(["one two"], SamplingParams(max_new_tokens=6))[0][0].token_ids
    assert len(set(plain)) == 1
    strong = load_backend(
        "ct2", model=str(saved), options={"intra_threads": 1, "repetition_penalty": 50.0}
    )
    assert (
        len(set(strong.generate(["one two"], SamplingParams(max_new_tokens=6))[0][0].token_ids)) > 1
    )
    penalised = ct2.generate(["one two"], SamplingParams(max_new_tokens=6, presence_penalty=2.0))
    assert (
        penalised[0][0].token_ids != []
        and ct2._penalty(SamplingParams(presence_penalty=2.0)) == 1.2
    )


def test_stop_strings_cut_like_hf(ct2, hf):
    base = hf.generate(PROMPTS[:3], SamplingParams(max_new_tokens=8))
    # stop at the text of the 3rd generated token of each prompt
    stops = sorted({hf.tokenizer.decode(r[0].token_ids[2:3]) for r in base} - {""})
    params = SamplingParams(max_new_tokens=8, stop=stops)
    got, want = ct2.generate(PROMPTS[:3], params), hf.generate(PROMPTS[:3], params)
    assert [(r[0].text, r[0].token_ids, r[0].finish_reason) for r in got] == [
        (r[0].text, r[0].token_ids, r[0].finish_reason) for r in want
    ]
    assert all(r[0].finish_reason == "stop" for r in got)


def test_exact_hf_serves_greedy_and_scoring_while_int8_samples(saved, cache, hf, tmp_path):
    """``exact: hf``: greedy and log-likelihoods are hf's exactly, sampling is CTranslate2 int8,
    and reload renews both (the DDR preset's split: fast rollouts, faithful evaluation)."""
    opts = {"compute_type": "int8", "exact": "hf", "intra_threads": 1}
    lm = load_backend("ct2", model=str(saved), device="cpu", batch_size=2, options=opts)
    assert lm.engine == "ct2" and lm.compute_type == "int8" and lm._exact is not None
    calls = []
    real = lm._ready
    lm._ready = lambda: calls.append(1) or real()  # every CTranslate2 call goes through it
    greedy = SamplingParams(max_new_tokens=5)
    assert ids(lm.generate(PROMPTS, greedy)) == ids(hf.generate(PROMPTS, greedy))
    assert lm.loglikelihood(PAIRS) == hf.loglikelihood(PAIRS)
    assert not calls
    seeded = SamplingParams(n=2, temperature=1.0, max_new_tokens=3, seed=3)
    first = lm.generate(PROMPTS[:2], seeded)
    assert calls and [len(r) for r in first] == [2, 2]
    old = lm._exact
    lm.reload(str(saved))
    assert lm._exact is not None and lm._exact is not old
    assert ids(lm.generate(PROMPTS[:2], greedy)) == ids(hf.generate(PROMPTS[:2], greedy))
    with pytest.raises(BackendError, match="'exact' must be 'hf' or absent"):
        load_backend("ct2", model=str(saved), options={"exact": "vllm"})


def test_conversion_is_cached_keyed_by_weights_and_compute_type(ct2, saved, cache):
    from ennead.core import assets

    first = ct2.converted_path
    again = load_backend("ct2", model=str(saved), options={"intra_threads": 1})
    assert again.converted_path == first
    marker = json.loads((assets.ct2_dir() / first.split("/")[-2] / assets.MARKER).read_text())
    assert marker["quantization"] == "float32" and marker["hash"] == assets.weights_hash(saved)
    int8 = load_backend(
        "ct2", model=str(saved), options={"intra_threads": 1, "compute_type": "int8"}
    )
    assert int8.converted_path != first and int8.converted_path.endswith("int8/model")
    assert not list(assets.ct2_dir().glob(".tmp-*"))  # no half-written conversions left


def test_reload_serves_new_weights(saved, cache, tmp_path):
    import torch

    lm = load_backend("ct2", model=str(saved), options={"intra_threads": 1})
    moved = load_backend("hf", model=str(saved), device="cpu")
    with torch.no_grad():
        for p in moved.model.parameters():
            p.add_(0.5 * torch.randn_like(p, generator=torch.Generator().manual_seed(0)))
    moved.model.save_pretrained(tmp_path / "moved")
    moved.tokenizer.save_pretrained(tmp_path / "moved")
    old = lm.loglikelihood(PAIRS[:1])
    lm.release()
    lm.reload(tmp_path / "moved")
    assert lm.model_path == str(tmp_path / "moved") and lm.load_seconds > 0
    assert lm.loglikelihood(PAIRS[:1]) == pytest.approx(moved.loglikelihood(PAIRS[:1]), abs=1e-3)
    assert lm.loglikelihood(PAIRS[:1]) != pytest.approx(old, abs=1e-2)
    lm.release()  # released weights load again on the next call
    assert lm.generate(["one two"], SamplingParams(max_new_tokens=2))[0][0].token_ids
    import shutil
    from pathlib import Path

    lm.release()  # ... even when the cached conversion was pruned meanwhile
    shutil.rmtree(Path(lm.converted_path).parent)
    assert lm.generate(["one two"], SamplingParams(max_new_tokens=2))[0][0].token_ids


@pytest.fixture(scope="module")
def unsupported(tiny, tmp_path_factory):
    """A GPT-Neo model: transformers loads it, CTranslate2 4.8 has no converter for it."""
    import transformers

    cfg = transformers.GPTNeoConfig(
        vocab_size=len(tiny.tokenizer),
        hidden_size=32,
        num_layers=2,
        num_heads=2,
        attention_types=[[["global", "local"], 1]],
        max_position_embeddings=64,
        eos_token_id=tiny.tokenizer.eos_token_id,
        pad_token_id=tiny.tokenizer.pad_token_id,
    )
    folder = tmp_path_factory.mktemp("gpt-neo")
    transformers.GPTNeoForCausalLM(cfg).save_pretrained(folder)
    tiny.tokenizer.save_pretrained(folder)
    return folder


def test_unconvertible_folder_is_a_typed_error_naming_the_architecture(unsupported, cache):
    from ennead.core.backends.ct2 import CT2ConversionError

    with pytest.raises(CT2ConversionError, match=r"GPTNeoForCausalLM \(model_type 'gpt_neo'\)"):
        load_backend("ct2", model=str(unsupported))
    with pytest.raises(CT2ConversionError, match=r"no config\.json"):
        load_backend("ct2", model=str(unsupported.parent))
    from ennead.core import assets

    assert not list(assets.ct2_dir().glob(".tmp-*"))


def test_falls_back_to_hf_only_when_configured(unsupported, cache):
    lm = load_backend("ct2", model=str(unsupported), device="cpu", options={"fallback": "hf"})
    ref = load_backend("hf", model=str(unsupported), device="cpu")
    assert lm.engine == "hf" and lm.generator is None
    params = SamplingParams(max_new_tokens=4)
    assert ids(lm.generate(PROMPTS[:2], params)) == ids(ref.generate(PROMPTS[:2], params))
    assert lm.loglikelihood(PAIRS[:1]) == pytest.approx(ref.loglikelihood(PAIRS[:1]))


def test_bad_options_are_clear_errors(saved, cache, monkeypatch):
    with pytest.raises(BackendError, match="unknown ct2 backend options: threads;"):
        load_backend("ct2", model=str(saved), options={"threads": 2})
    with pytest.raises(BackendError, match="compute_type 'int4' unknown"):
        load_backend("ct2", model=str(saved), options={"compute_type": "int4"})
    with pytest.raises(BackendError, match="'fallback' must be 'hf'"):
        load_backend("ct2", model=str(saved), options={"fallback": "vllm"})
    with pytest.raises(BackendError, match="model folder not found"):
        load_backend("ct2", model=str(saved / "nope"))
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_supported_compute_types", lambda device: {"float32"})
    with pytest.raises(BackendError, match=r"'bfloat16' is not supported on this cpu .* float32"):
        load_backend("ct2", model=str(saved), device="cpu", dtype="bfloat16")


def test_ray_replicas_of_ct2_answer_like_one_process(ray_local, saved, cache):
    """Ray actors convert into the default cache (they do not see this test's ENNEAD_CACHE)."""
    local = load_backend("ct2", model=str(saved), batch_size=2, options={"intra_threads": 1})
    pool = load_backend(
        "ray",
        model=str(saved),
        device="cpu",
        batch_size=2,
        options={
            "backend": "ct2",
            "replicas": 2,
            "gpus_per_replica": 0,
            "options": {"intra_threads": 1},
        },
    )
    try:
        greedy = SamplingParams(max_new_tokens=4)
        assert ids(pool.generate(PROMPTS, greedy)) == ids(local.generate(PROMPTS, greedy))
        assert pool.loglikelihood(PAIRS) == pytest.approx(local.loglikelihood(PAIRS), abs=1e-5)
        seeded = SamplingParams(n=2, temperature=1.0, max_new_tokens=3, seed=5)
        assert ids(pool.generate(PROMPTS, seeded)) == ids(pool.generate(PROMPTS, seeded))
    finally:
        pool.release()


@pytest.mark.slow
def test_smollm2_greedy_equals_hf(smollm2_backend):
    """The embedded default: ct2 float32 (model None means SmolLM2) against hf."""
    lm = load_backend("ct2", device="cpu")
    assert lm.model_path == smollm2_backend.model_path
    chats = [
        [{"role": "user", "content": "What is the capital of France?"}],
        [{"role": "user", "content": "Name a fruit that is yellow."}],
        [{"role": "user", "content": "Write one word that means happy."}],
        "The largest planet in the solar system is",
    ]
    params = SamplingParams(max_new_tokens=24)
    assert ids(lm.generate(chats, params)) == ids(smollm2_backend.generate(chats, params))
    pairs = [("The capital of France is", " Paris"), ("The capital of France is", " Berlin")]
    assert lm.loglikelihood(pairs) == pytest.approx(smollm2_backend.loglikelihood(pairs), abs=2e-3)


def test_cuda_index_is_checked_and_passed_on(saved, cache, monkeypatch):
    """``cuda:N`` picks device N (it used to be read as plain ``cuda``); a missing N is named."""
    import ctranslate2

    from ennead.core.backends.ct2 import CT2Backend

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 2)
    backend = CT2Backend.__new__(CT2Backend)
    backend.device_arg = "cuda:1"
    assert backend._device(ctranslate2) == "cuda" and backend.device_index == 1
    backend.device_arg = "cuda"
    assert backend._device(ctranslate2) == "cuda" and backend.device_index == 0
    backend.device_arg = "cuda:2"
    with pytest.raises(BackendError, match=r"sees 2 CUDA device\(s\), use cuda or cuda:0..cuda:1"):
        backend._device(ctranslate2)
