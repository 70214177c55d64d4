"""Tool learning speed: tool-call overhead (schema validation + timeout thread; sandbox start) and
agent steps/s with the response cache off and on, as ratios against baselines from the same run.

    .venv/bin/python benchmarks/bench_tools.py        # writes benchmarks/results/tools.json
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

from ennead.tools.cache import ResponseCache
from ennead.tools.evaluate import run_suite
from ennead.tools.policies import LMPolicy, RulePolicy
from ennead.tools.sandbox import network_isolation, run_python
from ennead.tools.tasks import build_suite, split
from ennead.tools.toolbox import build_registry, safe_eval


def per_call(fn, n: int) -> float:
    fn()  # warm up
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def main() -> None:
    reg = build_registry(None)
    direct = per_call(lambda: safe_eval("17*23 + sqrt(2)"), 2000)
    registry = per_call(lambda: reg.call("calculator", {"expression": "17*23 + sqrt(2)"}), 500)
    code = "print(sum(range(1000)))"
    in_proc = per_call(lambda: exec(compile(code, "<b>", "exec"), {"print": lambda *a: None}), 500)
    with tempfile.TemporaryDirectory() as ws:
        sandbox = per_call(lambda: run_python(code, ws), 20)

    tasks = list(split(build_suite(), "inst"))[:40]
    t0 = time.perf_counter()
    recs = run_suite(RulePolicy(), tasks, "react")
    rule_steps = sum(r["steps"] for r in recs) / (time.perf_counter() - t0)

    from ennead.core.backends import load_backend

    lm = load_backend("tiny", max_input_tokens=400)
    lm_tasks = tasks[:6]
    with tempfile.TemporaryDirectory() as d:
        cache = ResponseCache(Path(d) / "c.sqlite")
        timings = []
        for _ in range(2):  # first pass fills the cache, second reads it
            t0 = time.perf_counter()
            recs = run_suite(
                LMPolicy(lm, cache, max_new_tokens=16), lm_tasks, "react", 3, 3, retrieve_k=3
            )
            timings.append(sum(r["steps"] for r in recs) / (time.perf_counter() - t0))
        hits = cache.hits
    write_result(
        "tools",
        {
            "calculator_direct_us": round(direct * 1e6, 1),
            "calculator_via_registry_us": round(registry * 1e6, 1),
            "registry_overhead_ratio": round(registry / direct, 1),
            "python_in_process_us": round(in_proc * 1e6, 1),
            "python_sandboxed_ms": round(sandbox * 1e3, 2),
            "sandbox_start_ratio": round(sandbox / in_proc, 1),
            "sandbox_network_isolation": network_isolation(),
            "rule_policy_steps_per_s": round(rule_steps, 1),
            "tiny_lm_steps_per_s_cache_off": round(timings[0], 2),
            "tiny_lm_steps_per_s_cache_on": round(timings[1], 2),
            "cache_speedup_ratio": round(timings[1] / timings[0], 1),
            "cache_hits_second_pass": hits,
        },
    )


if __name__ == "__main__":
    main()
