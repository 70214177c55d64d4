"""The embedded default answers for real (greedy, CPU)."""

import time

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


def test_prepared_folder_reloads_fast(smollm2_backend):
    import transformers

    from ennead.core.assets import smollm2_path

    folder = smollm2_path()
    t0 = time.perf_counter()
    transformers.AutoModelForCausalLM.from_pretrained(str(folder))
    transformers.AutoTokenizer.from_pretrained(str(folder))
    # the issue asks for < 1 s; allow margin for a loaded shared CI machine
    assert time.perf_counter() - t0 < 3.0
