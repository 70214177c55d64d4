"""Generation throughput of the smollm2 backend: 16 prompts batched vs one at a time, same run.

Run: python benchmarks/bench_generation.py [--threads N] [--new-tokens 32]
Every completion is forced to the same length (min_new_tokens = max_new_tokens) so tokens/s compare.
Greedy decoding, so the two ways should also give the same text; the result says how many do.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

PROMPTS = [
    "Explain why the sky is blue.",
    "Write a haiku about autumn.",
    "What is the capital of Japan?",
    "List three uses of copper.",
    "Describe a cat in one sentence.",
    "How do vaccines work?",
    "Name a famous painter and one of their works.",
    "What is photosynthesis?",
    "Give me a tip for learning a language.",
    "Why do leaves change colour?",
    "What does a compiler do?",
    "Summarise the water cycle.",
    "What is the boiling point of water?",
    "Suggest a name for a bakery.",
    "How far is the Moon from Earth?",
    "What is a prime number?",
]


def main(new_tokens: int = 32, threads: int | None = None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)
    from ennead.core.backends import load_backend
    from ennead.core.backends.base import SamplingParams

    lm = load_backend("smollm2", device="cpu", batch_size=16)
    chats = [[{"role": "user", "content": p}] for p in PROMPTS]
    params = SamplingParams(max_new_tokens=new_tokens, min_new_tokens=new_tokens)
    lm.generate(chats[:2], params)  # warm-up
    t0 = time.perf_counter()
    batched = lm.generate(chats, params)
    t_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = [lm.generate([c], params)[0] for c in chats]
    t_single = time.perf_counter() - t0
    same = sum(b[0].token_ids == s[0].token_ids for b, s in zip(batched, single))
    n_batched = sum(len(r[0].token_ids) for r in batched)
    n_single = sum(len(r[0].token_ids) for r in single)
    tps_b, tps_s = n_batched / t_batched, n_single / t_single
    write_result(
        "generation",
        {
            "model": "SmolLM2-135M-Instruct (fp32, CPU)",
            "torch_threads": torch.get_num_threads(),
            "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine
            "prompts": len(PROMPTS),
            "new_tokens_per_prompt": new_tokens,
            "batched_tokens": n_batched,
            "batched_seconds": round(t_batched, 3),
            "batched_tokens_per_s": round(tps_b, 1),
            "one_at_a_time_tokens": n_single,
            "one_at_a_time_seconds": round(t_single, 3),
            "one_at_a_time_tokens_per_s": round(tps_s, 1),
            "speedup": round(tps_b / tps_s, 2),
            "identical_greedy_outputs": f"{same}/{len(PROMPTS)}",
        },
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--new-tokens", type=int, default=32)
    args = ap.parse_args()
    main(args.new_tokens, args.threads)
