"""The embedded default for real (greedy, CPU). The session fixture prepares the user cache once."""

import json
import time

import pytest

from ennead.core.backends.base import SamplingParams


def test_smollm2_answers_capital_of_france(smollm2_backend):
    out = smollm2_backend.chat(
        [{"role": "user", "content": "What is the capital of France?"}],
        SamplingParams(max_new_tokens=24),
    )
    assert "Paris" in out


def test_smollm2_prefers_the_true_answer(smollm2_backend):
    good, bad = smollm2_backend.loglikelihood(
        [("The capital of France is", " Paris"), ("The capital of France is", " Berlin")]
    )
    assert good > bad + 2.0


def test_score_does_not_depend_on_where_the_space_sits(smollm2_backend):
    # BPE puts the space inside " Paris"; scoring tokenizes the whole text, so both splits agree
    a, b = smollm2_backend.token_logprobs(
        [("The capital of France is", " Paris"), ("The capital of France is ", "Paris")]
    )
    assert len(a) == len(b) == 1 and a == pytest.approx(b, abs=1e-4)


def test_chat_scoring_and_generation_logprobs_agree(smollm2_backend):
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    c = smollm2_backend.generate([chat], SamplingParams(max_new_tokens=8, return_logprobs=True))
    c = c[0][0]
    scored = smollm2_backend.token_logprobs([(chat, c.text)])[0]
    assert len(scored) == len(c.token_ids)
    assert scored == pytest.approx(c.logprobs, abs=2e-3)


def test_prepared_folder_reloads_fast(smollm2_backend):
    import transformers

    from ennead.core.assets import MARKER, smollm2_path

    folder = smollm2_path()
    assert json.loads((folder / MARKER).read_text())["files"]
    t0 = time.perf_counter()
    transformers.AutoModelForCausalLM.from_pretrained(str(folder))
    tok = transformers.AutoTokenizer.from_pretrained(str(folder))
    elapsed = time.perf_counter() - t0
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    # the issue asks for < 1 s (0.4-0.6 s measured); margin for a shared, loaded machine
    assert elapsed < 3.0


@pytest.mark.slow
def test_real_conversion_into_a_fresh_cache(monkeypatch, tmp_path, smollm2_backend):
    from ennead.core import assets
    from ennead.core.backends.hf import SmolLM2Backend

    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path))
    folder = assets.prepare_smollm2()
    assert folder.parent == tmp_path and (folder / assets.MARKER).is_file()
    fresh = SmolLM2Backend(device="cpu")
    pairs = [("The capital of France is", " Paris")]
    assert fresh.loglikelihood(pairs) == pytest.approx(smollm2_backend.loglikelihood(pairs))
