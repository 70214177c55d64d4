"""The openai backend against a real HTTP server on loopback that speaks the OpenAI API shape."""

import socket
import threading
import time

import pytest

fastapi = pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from ennead.core.backends import load_backend  # noqa: E402
from ennead.core.backends.base import SamplingParams  # noqa: E402
from ennead.core.errors import BackendError, MissingExtraError  # noqa: E402

SEEN: list[dict] = []
FAILS = {"left": 0}


def make_app():
    app = fastapi.FastAPI()

    @app.post("/v1/completions")
    async def completions(body: dict):
        SEEN.append(body)
        if FAILS["left"] > 0:
            FAILS["left"] -= 1
            return fastapi.responses.JSONResponse({"error": "busy"}, status_code=503)
        if body.get("echo"):
            # tokens: "The" " sky" " is" " blue" with offsets; prompt-logprob of first is None
            text = body["prompt"]
            toks = ["The", " sky", " is", " blue"]
            offsets = [0, 3, 7, 10]
            assert "".join(toks) == text
            lps = {
                "tokens": toks,
                "text_offset": offsets,
                "token_logprobs": [None, -2.0, -0.5, -1.25],
            }
            return {"choices": [{"text": text, "logprobs": lps, "finish_reason": "length"}]}
        n = body.get("n", 1)
        return {
            "choices": [
                {"index": i, "text": f" answer {i}. more", "finish_reason": "length",
                 "logprobs": {"token_logprobs": [-0.1, -0.2]} if body.get("logprobs") else None}
                for i in range(n)
            ]
        }  # fmt: skip

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        SEEN.append(body)
        last = body["messages"][-1]["content"]
        msg = {"role": "assistant", "content": f"echo: {last}"}
        return {"choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}

    @app.post("/v1/bad/completions")
    async def bad(body: dict):
        return fastapi.responses.JSONResponse({"error": "model not found"}, status_code=404)

    return app


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    srv.should_exit = True
    thread.join(timeout=5)


def test_completions_pass_sampling_params(server):
    SEEN.clear()
    lm = load_backend("openai", model="m", options={"base_url": server})
    params = SamplingParams(n=2, temperature=0.7, top_p=0.9, max_new_tokens=5,
                            presence_penalty=0.5, stop=["."], seed=4, logprobs=True)  # fmt: skip
    out = lm.generate(["Q:"], params)
    assert [c.text for c in out[0]] == [" answer 0", " answer 1"]
    assert out[0][0].finish_reason == "stop" and out[0][0].logprobs == [-0.1, -0.2]
    body = SEEN[-1]
    assert body["n"] == 2 and body["temperature"] == 0.7 and body["top_p"] == 0.9
    assert body["max_tokens"] == 5 and body["presence_penalty"] == 0.5
    assert body["stop"] == ["."] and body["seed"] == 4 and body["prompt"] == "Q:"


def test_chat_goes_to_chat_endpoint(server):
    lm = load_backend("openai", model="m", options={"base_url": server})
    assert lm.chat([{"role": "user", "content": "hi"}]) == "echo: hi"


def test_loglikelihood_from_echoed_prompt_logprobs(server):
    lm = load_backend("openai", model="m", options={"base_url": server})
    assert lm.loglikelihood([("The sky is", " blue")]) == [-1.25]
    assert lm.loglikelihood([("The sky", " is blue")]) == [-1.75]


def test_retries_then_succeeds(server):
    FAILS["left"] = 2
    lm = load_backend("openai", model="m", options={"base_url": server, "backoff": 0.01})
    assert lm.generate(["x"])[0][0].text == " answer 0. more"


def test_errors_are_clear(server):
    lm = load_backend("openai", model="m", options={"base_url": server + "/bad", "retries": 0})
    with pytest.raises(BackendError, match="404"):
        lm.generate(["x"])
    opts = {"base_url": "http://127.0.0.1:9/v1", "retries": 1, "backoff": 0.01}
    dead = load_backend("openai", model="m", options=opts)
    with pytest.raises(BackendError, match="failed after 2 tries"):
        dead.generate(["x"])
    with pytest.raises(BackendError, match="unknown openai backend options: colour"):
        load_backend("openai", model="m", options={"colour": 1})


def test_vllm_missing_extra_names_pip_line():
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match=r"pip install 'ennead\[gpu\]'"):
            load_backend("vllm", model="x")
    else:
        pytest.skip("vllm is installed here")
