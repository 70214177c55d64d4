"""DDR Gen rollouts data-parallel on Ray replicas vs one process, SmolLM2 on the CPU, same run.

Two replicas of the ``ray`` backend on a 2-CPU local cluster (one torch thread each) against one
in-process backend with one thread (same CPU per replica) and with two threads (same CPU in all).
Pool start-up is timed apart.

Run: python benchmarks/bench_ddr_ray.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ddr import QUESTIONS
from common import write_result


def main() -> None:
    import ray
    import torch

    from ennead.core import assets
    from ennead.core.backends import load_backend
    from ennead.ddr.data import QARecord
    from ennead.ddr.modules import Generator
    from ennead.ddr.rollout import gen_rollouts

    torch.set_num_threads(1)
    recs = [
        QARecord(id=str(i), question=q, answers=[p[0].split()[0]], passages=p)
        for i, (q, p) in enumerate(QUESTIONS)
    ]
    ctx = [r.passages for r in recs]
    temps, loops, new = [0.7], 4, 16

    def timed(lm):
        gen = Generator(lm, top_n=1, max_new_tokens=new)
        gen_rollouts(gen, recs[:2], ctx[:2], temps, 1, max_new_tokens=4)  # warm-up
        t0 = time.perf_counter()
        cands = gen_rollouts(gen, recs, ctx, temps, loops, max_new_tokens=new, seed=1)
        return time.perf_counter() - t0, sum(len(c) for c in cands)

    local = load_backend("smollm2", device="cpu", batch_size=16)
    one, n = timed(local)
    torch.set_num_threads(2)
    one_2t, _ = timed(local)
    torch.set_num_threads(1)
    del local
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    t0 = time.perf_counter()
    opts = {"backend": "hf", "replicas": 2, "gpus_per_replica": 0}
    pool = load_backend(
        "ray", model=str(assets.smollm2_path()), device="cpu", batch_size=16, options=opts
    )
    start = time.perf_counter() - t0
    two, n2 = timed(pool)
    pool.release()
    ray.shutdown()
    assert n == n2
    write_result(
        "ddr_ray",
        {
            "rollout_completions": n,
            "one_process_s": round(one, 2),
            "ray_2_replicas_s": round(two, 2),
            "one_process_completions_per_s": round(n / one, 2),
            "ray_2_replicas_completions_per_s": round(n / two, 2),
            "one_process_2_threads_s": round(one_2t, 2),
            "speedup_vs_1_thread": round(one / two, 2),
            "speedup_vs_2_threads": round(one_2t / two, 2),
            "pool_start_s": round(start, 2),
        },
    )


if __name__ == "__main__":
    main()
