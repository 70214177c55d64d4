"""The ``ray`` backend: replicas of a saved tiny model as actors of a 2-CPU local Ray cluster."""

import os

import pytest

from ennead.core.backends import load_backend
from ennead.core.backends.base import SamplingParams
from ennead.core.backends.replicas import shards
from ennead.core.errors import BackendError


def test_shards_are_contiguous_balanced_and_cover_everything():
    assert shards(5, 2) == [(0, 3), (3, 5)]
    assert shards(2, 4) == [(0, 1), (1, 2)]  # never an empty shard
    assert shards(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert shards(0, 3) == [(0, 0)]


@pytest.fixture(scope="module")
def pool(ray_local, saved):
    lm = load_backend(
        "ray",
        model=str(saved),
        device="cpu",
        batch_size=2,
        options={"backend": "hf", "replicas": 2, "gpus_per_replica": 0},
    )
    yield lm
    lm.release()


PROMPTS = ["one two", "the capital of", "a cat", "the capital of italy", "five six"]


def test_two_replicas_answer_like_one_process_in_prompt_order(pool, saved):
    local = load_backend("hf", model=str(saved), device="cpu", batch_size=2)
    greedy = SamplingParams(max_new_tokens=4)
    got = pool.generate(PROMPTS, greedy)
    assert [r[0].token_ids for r in got] == [
        r[0].token_ids for r in local.generate(PROMPTS, greedy)
    ]
    pairs = [(p, " paris") for p in PROMPTS]
    assert pool.loglikelihood(pairs) == pytest.approx(local.loglikelihood(pairs), abs=1e-5)
    chat = [{"role": "user", "content": "hi"}]
    assert pool.format_prompt(chat) == local.format_prompt(chat)  # tokenizer from replica 0
    infos = pool.replica_info()
    pids = {i["pid"] for i in infos}
    assert len(pids) == 2 and os.getpid() not in pids  # two separate worker processes


def test_sampling_n_per_prompt_and_seeded(pool):
    p = SamplingParams(n=3, temperature=1.0, max_new_tokens=3, seed=7)
    a, b = pool.generate(PROMPTS, p), pool.generate(PROMPTS, p)
    assert [len(r) for r in a] == [3] * len(PROMPTS)
    assert [[c.token_ids for c in r] for r in a] == [[c.token_ids for c in r] for r in b]


def test_release_frees_the_workers_and_reload_serves_new_weights(pool, saved, tmp_path):
    import torch

    before = pool.replica_info()
    pool.release()
    assert pool._actors == []
    again = pool.generate(["one two"], SamplingParams(max_new_tokens=2))  # restarts lazily
    assert len(again) == 1
    assert {i["pid"] for i in pool.replica_info()}.isdisjoint({i["pid"] for i in before})

    other = load_backend("hf", model=str(saved), device="cpu")
    with torch.no_grad():
        for p in other.model.parameters():
            p.add_(0.5 * torch.randn_like(p))
    other.model.save_pretrained(tmp_path / "moved")
    other.tokenizer.save_pretrained(tmp_path / "moved")
    pairs = [("one two", " three")]
    old = pool.loglikelihood(pairs)
    pool.reload(str(tmp_path / "moved"))
    assert pool.model_path == str(tmp_path / "moved")
    assert pool.loglikelihood(pairs) == pytest.approx(other.loglikelihood(pairs), abs=1e-5)
    assert pool.loglikelihood(pairs) != pytest.approx(old, abs=1e-3)
    pool.reload(str(saved))


def test_bad_options_and_impossible_requests_are_clear_errors(ray_local, saved):
    with pytest.raises(BackendError, match="unknown ray backend options: replica;"):
        load_backend("ray", model=str(saved), options={"replica": 2})
    with pytest.raises(BackendError, match="cannot be 'ray'"):
        load_backend("ray", model=str(saved), options={"backend": "ray"})
    with pytest.raises(BackendError, match=r"needs 4 GPU .* has 0 free"):
        load_backend("ray", model=str(saved), options={"replicas": 4, "gpus_per_replica": 1})
    with pytest.raises(BackendError, match="needs 8 CPU"):
        load_backend("ray", model=str(saved), options={"replicas": 8, "gpus_per_replica": 0})
    # the pool fixture holds both CPUs, so this replica asks for none
    bad = {"replicas": 1, "gpus_per_replica": 0, "cpus_per_replica": 0}
    with pytest.raises(BackendError, match=r"replica failed.*model folder not found") as err:
        load_backend("ray", model=str(saved / "nope"), device="cpu", options=bad)
    assert "Traceback" not in str(err.value) and "\x1b" not in str(err.value)  # the cause only
