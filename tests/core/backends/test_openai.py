"""The openai backend against a real HTTP server on loopback that speaks the OpenAI API shape."""

import pytest

fastapi = pytest.importorskip("fastapi")

from ennead.core.backends import load_backend  # noqa: E402
from ennead.core.backends.base import SamplingParams  # noqa: E402
from ennead.core.errors import BackendError  # noqa: E402

SEEN: list[dict] = []
FAILS = {"left": 0}
# The fake server's tokenizer: whitespace-led words, each with a fixed log-prob.
WORD_LP = {"The": None, " sky": -2.0, " is": -0.5, " blue": -1.25, " green": -4.0}


def words(text):
    out, cur = [], ""
    for ch in text:
        if ch == " " and cur:
            out.append(cur)
            cur = ""
        cur += ch
    return [*out, cur] if cur else out


def make_app():
    app = fastapi.FastAPI()

    @app.post("/v1/completions")
    async def completions(body: dict):
        SEEN.append(body)
        if FAILS["left"] > 0:
            FAILS["left"] -= 1
            return fastapi.responses.JSONResponse({"error": "busy"}, status_code=503)
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        n = body.get("n", 1)
        choices = []
        if body.get("echo"):
            assert body["max_tokens"] == 0 and body["logprobs"] == 1
            for i, text in enumerate(prompts):
                toks = words(text)
                offsets = [sum(len(t) for t in toks[:j]) for j in range(len(toks))]
                lps = {
                    "tokens": toks,
                    "text_offset": offsets,
                    "token_logprobs": [WORD_LP.get(t, -9.0) for t in toks],
                }
                choices.append({"index": i, "text": text, "logprobs": lps})
        else:
            for i, text in enumerate(prompts):
                for k in range(n):
                    lp = {"token_logprobs": [-0.1, -0.2]} if body.get("logprobs") else None
                    choices.append(
                        {
                            "index": i * n + k,
                            "text": f" {text}>{k}. more",
                            "finish_reason": "length",
                            "logprobs": lp,
                        }
                    )
            choices.reverse()  # the client must order by index, not trust the list order
        return {"choices": choices}

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        SEEN.append(body)
        last = body["messages"][-1]["content"]
        msg = {"role": "assistant", "content": f"echo: {last}"}
        lp = {"content": [{"token": "e", "logprob": -0.3}]} if body.get("logprobs") else None
        return {"choices": [{"index": 0, "message": msg, "finish_reason": "stop", "logprobs": lp}]}

    @app.post("/v1/bad/completions")
    async def bad(body: dict):
        return fastapi.responses.JSONResponse({"error": "model not found"}, status_code=404)

    @app.post("/v1/down/completions")
    async def down(body: dict):
        return fastapi.responses.JSONResponse({"error": "overloaded"}, status_code=500)

    @app.post("/v1/plain/completions")
    async def no_logprobs(body: dict):
        return {"choices": [{"index": 0, "text": "x", "logprobs": None}]}

    return app


@pytest.fixture(scope="module")
def server(serve_app):
    return serve_app(make_app()) + "/v1"


def lm_for(server, **opts):
    return load_backend("openai", model="m", options={"base_url": server, **opts})


def test_completions_pass_sampling_params(server):
    SEEN.clear()
    lm = lm_for(server)
    params = SamplingParams(
        n=2,
        temperature=0.7,
        top_p=0.9,
        max_new_tokens=5,
        presence_penalty=0.5,
        stop=["."],
        seed=4,
        return_logprobs=True,
    )
    out = lm.generate(["Q:"], params)
    assert [c.text for c in out[0]] == [" Q:>0", " Q:>1"]
    assert out[0][0].finish_reason == "stop" and out[0][0].logprobs == [-0.1, -0.2]
    body = SEEN[-1]
    assert body["n"] == 2 and body["temperature"] == 0.7 and body["top_p"] == 0.9
    assert body["max_tokens"] == 5 and body["presence_penalty"] == 0.5 and body["logprobs"] == 1
    assert body["stop"] == ["."] and body["seed"] == 4 and body["prompt"] == ["Q:"]


def test_plain_prompts_batched_per_request_and_kept_in_order(server):
    SEEN.clear()
    lm = load_backend("openai", model="m", batch_size=4, options={"base_url": server})
    prompts = [f"p{i}" for i in range(10)]
    out = lm.generate(prompts, SamplingParams(n=2, temperature=1.0))
    assert len(SEEN) == 3  # 4 + 4 + 2 prompts
    assert [[c.text for c in row] for row in out] == [
        [f" p{i}>0. more", f" p{i}>1. more"] for i in range(10)
    ]


def test_chat_goes_to_chat_endpoint(server):
    lm = lm_for(server)
    assert lm.chat([{"role": "user", "content": "hi"}]) == "echo: hi"
    mixed = lm.generate(
        ["a", [{"role": "user", "content": "b"}]], SamplingParams(return_logprobs=True)
    )
    assert mixed[0][0].text == " a>0. more" and mixed[1][0].text == "echo: b"
    assert mixed[1][0].logprobs == [-0.3] and mixed[1][0].finish_reason == "stop"


def test_loglikelihood_from_echoed_prompt_logprobs(server):
    lm = lm_for(server)
    assert lm.loglikelihood([("The sky is", " blue")]) == [-1.25]
    assert lm.token_logprobs([("The sky", " is blue")]) == [[-0.5, -1.25]]
    # a token straddling the boundary (" blue" starts inside the prompt) is scored
    assert lm.loglikelihood([("The sky is ", "blue"), ("The sky is", " green")]) == [-1.25, -4.0]
    with pytest.raises(BackendError, match="plain-text prompts only"):
        lm.loglikelihood([([{"role": "user", "content": "x"}], " y")])


def test_server_without_prompt_logprobs_is_explained(server):
    lm = lm_for(server + "/plain")
    with pytest.raises(BackendError, match="no prompt log-probs"):
        lm.loglikelihood([("a", " b")])


def test_retries_then_succeeds(server):
    FAILS["left"] = 2
    assert lm_for(server, backoff=0.01).generate(["x"])[0][0].text == " x>0. more"


def test_errors_are_clear(server):
    lm = lm_for(server + "/bad", retries=0)
    with pytest.raises(BackendError, match=r"404.*model not found"):
        lm.generate(["x"])
    lm = lm_for(server + "/down", retries=1, backoff=0.01)
    with pytest.raises(BackendError, match=r"failed after 2 tries.*500.*overloaded"):
        lm.generate(["x"])
    dead = lm_for("http://127.0.0.1:9/v1", retries=1, backoff=0.01)
    with pytest.raises(BackendError, match=r"failed after 2 tries.*ConnectError"):
        dead.generate(["x"])
    with pytest.raises(BackendError, match="unknown openai backend options: colour"):
        load_backend("openai", model="m", options={"colour": 1})
    with pytest.raises(BackendError, match="needs model="):
        load_backend("openai", options={"base_url": server})
