"""The embedded-model study: episode batching, the task sample, intervals, and the whole path with
the tiny in-process model (a smoke test: sizes far too small for a real effect)."""

import json
import threading

from ennead.tools.config import ToolsConfig
from ennead.tools.policies import LMPolicy
from ennead.tools.study import (
    BatchingLM,
    bootstrap_ci,
    paired_gain,
    run_batched,
    run_study,
    sample_tasks,
)


class _Echo:
    """A fake backend: answers each prompt with a finish action naming the task's last line."""

    name = "echo"
    tokenizer = None

    def __init__(self):
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def generate(self, prompts, params):
        from ennead.core.backends.base import Completion

        with self.lock:
            self.calls.append(len(prompts))
        out = []
        for p in prompts:
            ans = p.split("\n")[-2][-40:]
            text = f'Thought: done\nAction: finish\nAction Input: {{"answer": "{len(ans)}"}}'
            out.append([Completion(text=text, token_ids=[], finish_reason="stop")])
        return out


def test_episodes_are_stepped_in_one_batch_and_match_unbatched():
    tasks = sample_tasks({"inst": 5, "tool": 2}, seed=3)
    fake = _Echo()
    gate = BatchingLM(fake, max_batch=64)
    recs, _ = run_batched(LMPolicy(gate, None, 16), gate, tasks, "react", 2, 2)
    assert fake.calls == [7]  # all seven first steps in one call, all finish at once
    solo = _Echo()
    one = BatchingLM(solo, max_batch=1)
    recs1, _ = run_batched(LMPolicy(one, None, 16), one, tasks, "react", 2, 2)
    assert solo.calls == [1] * 7
    assert [r["answer"] for r in recs] == [r["answer"] for r in recs1]
    assert {r["group"] for r in recs} == {"inst", "tool"}


def test_sample_is_seeded_and_grouped():
    sizes = {"inst": 4, "unsolvable": 2, "cat": 3}
    a = sample_tasks(sizes, seed=17)
    assert [t.id for t in a] == [t.id for t in sample_tasks(sizes, seed=17)]
    assert sum(t.kind == "unsolvable" for t in a) == 2 and len(a) == 9
    assert [t.id for t in a] != [t.id for t in sample_tasks(sizes, seed=18)]


def test_bootstrap_and_paired_gain():
    lo, hi = bootstrap_ci([0.0, 1.0] * 20, 1000)
    assert 0.3 < lo < 0.5 < hi < 0.7
    base = [{"task": str(i), "group": "inst", "passed": False} for i in range(10)]
    tuned = [[{"task": str(i), "group": "inst", "passed": i < 5} for i in range(10)]] * 2
    g = paired_gain(tuned, base, "inst", 1000)
    assert g["gain_points"] == 50.0 and g["ci95"][0] > 10


def test_study_path_smoke_with_the_tiny_model(tmp_path):
    cfg = ToolsConfig.model_validate(
        {
            "policy": {"kind": "lm", "backend": "tiny"},
            "agent": {"retrieve_k": 2},
            "train": {"student": "tiny", "steps": 1, "batch_size": 2, "max_input_tokens": 400},
            "study": {
                "seeds": [0],
                "sizes": {"inst": 2, "unsolvable": 1, "tool": 1, "cat": 1},
                "new_tokens": 6,
                "react_steps": 2,
                "dfsdt_steps": 1,
                "budget": 2,
                "bootstrap": 100,
            },
        }
    )
    res = run_study(cfg, tmp_path)
    info = json.loads((tmp_path / "study.json").read_text())
    assert set(info["parts"]) == {
        "untuned-react",
        "untuned-dfsdt",
        "train-seed0",
        "tuned-seed0-react",
    }
    assert info["seeds_done"] == [0] and "goal +20: " in res.verdict
    assert info["parts"]["untuned-react"]["all"]["tasks"] == 5
    assert info["parts"]["untuned-react"]["mean_batch"] > 1  # episodes were batched
    assert info["parts"]["train-seed0"]["steps"] == 1
    assert set(info["gains_react"]) == {"inst", "tool", "cat", "unsolvable"}
    # a rerun (or a merge of parts run by other processes) reads every part back: no training
    again = run_study(
        cfg.model_copy(update={"study": cfg.study.model_copy(update={"parts": []})}), tmp_path
    )
    info2 = json.loads((tmp_path / "study.json").read_text())
    assert again.verdict == res.verdict and "train_seed0" not in info2["wall_s"]
    assert info2["parts"] == info["parts"]
