"""DDR rollouts and the pipeline on a served model: a loopback server speaking the OpenAI API, as
vLLM's server does. Checks what DDR sends (n samples per temperature, both prompt kinds)."""

import pytest

fastapi = pytest.importorskip("fastapi")

from ennead.core.backends import load_backend  # noqa: E402
from ennead.core.config import load_config  # noqa: E402
from ennead.ddr import DDRConfig  # noqa: E402
from ennead.ddr.data import as_records  # noqa: E402
from ennead.ddr.pipeline import RAGPipeline  # noqa: E402
from ennead.ddr.rollout import build_gen_pairs, gen_rollouts  # noqa: E402

SEEN: list[dict] = []


def make_app():
    app = fastapi.FastAPI()

    @app.post("/v1/completions")
    async def completions(body: dict):
        SEEN.append(body)
        choices = []
        for i, prompt in enumerate(body["prompt"]):
            for k in range(body.get("n", 1)):
                if "Relevant" in prompt:  # the judge: only passages naming Paris are relevant
                    text = " YES" if "Paris" in prompt.split("Passage:")[1] else " NO"
                elif "Background" in prompt:  # reads the first kept passage's last word
                    text = " " + prompt.split("Background: ")[1].split(" .")[0].split()[-1]
                else:  # closed book: guesses, one of them right
                    text = " Paris" if k == 0 else " Lyon"
                choices.append(
                    {"index": i * body.get("n", 1) + k, "text": text, "finish_reason": "stop"}
                )
        return {"choices": choices}

    return app


@pytest.fixture(scope="module")
def served(serve_app):
    url = serve_app(make_app())
    return load_backend("openai", model="served", batch_size=8, options={"base_url": f"{url}/v1"})


RECORDS = [
    {
        "id": "q1",
        "question": "capital of france ?",
        "answers": ["Paris"],
        "passages": ["Lyon is big .", "the capital is Paris ."],
    }
]


def _cfg():
    sets = ["kr.decision=generate", "kr.max_new_tokens=2", "train.max_new_tokens=2"]
    return load_config(DDRConfig, "tiny", sets, package="ennead.ddr")


def test_judge_and_generator_on_a_served_model(served):
    preds = RAGPipeline(_cfg(), served, served).predict(as_records(RECORDS))
    assert preds[0].passages[0] == "the capital is Paris ."  # the judge moved it first
    assert preds[0].answer == "Paris" and preds[0].score == 1.0


def test_rollouts_send_n_per_temperature_and_both_prompt_kinds(served):
    SEEN.clear()
    cfg = _cfg()
    pipe = RAGPipeline(cfg, served, served)
    records = as_records(RECORDS)
    ctx = [["Lyon is big ."]]  # a misleading context: without documents is better here
    cands = gen_rollouts(pipe.generator, records, ctx, [0.5, 0.9], loops=3, max_new_tokens=2)
    assert [(b["n"], b["temperature"]) for b in SEEN] == [(3, 0.5), (3, 0.5), (3, 0.9), (3, 0.9)]
    assert sum("Background" in b["prompt"][0] for b in SEEN) == 2  # with and without documents
    assert len(cands[0]) == 2 * 2 * 3
    pairs, stats = build_gen_pairs(pipe.generator, records, ctx, cands)
    assert stats.pairs == 1 and pairs[0]["chosen"].strip() == "Paris"
    assert pairs[0]["chosen_meta"]["kind"] == "raw" and "Background" in pairs[0]["prompt"]
