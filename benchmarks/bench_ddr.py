"""DDR rollouts on the smollm2 backend: completions/s batched vs one prompt at a time (same run),
and our DPO step vs TRL's DPOTrainer on the same pairs and model (time and peak RSS, same run).

Run: python benchmarks/bench_ddr.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

QUESTIONS = [
    ("What is the capital of France?", ["Paris is the capital and largest city of France."]),
    ("Who wrote Hamlet?", ["Hamlet is a tragedy written by William Shakespeare."]),
    ("What gas do plants absorb?", ["Plants absorb carbon dioxide for photosynthesis."]),
    ("How many legs does a spider have?", ["Spiders are arachnids with eight legs."]),
    ("What is the boiling point of water?", ["Water boils at 100 degrees Celsius at sea level."]),
    ("Which planet is known as the red planet?", ["Mars is often called the red planet."]),
    ("What is the largest ocean?", ["The Pacific is the largest ocean on Earth."]),
    ("Who painted the Mona Lisa?", ["Leonardo da Vinci painted the Mona Lisa."]),
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


RESULTS_TMP = Path(__file__).resolve().parent / "results"


def dpo_child(backend: str, pairs_file: str, model_path: str) -> None:
    import json

    from ennead.core.backends import load_backend
    from ennead.core.io import read_jsonl
    from ennead.core.train import DPOConfig, train_dpo
    from ennead.core.train.config import LoraSettings

    lm = load_backend("hf", model=model_path, device="cpu")
    pairs = read_jsonl(pairs_file)
    cfg = DPOConfig(
        backend=backend,
        max_steps=4,
        batch_size=2,
        lr=5e-5,
        lora=LoraSettings(r=8, alpha=32, dropout=0.1),
    )
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    res = train_dpo(lm.model, lm.tokenizer, pairs, cfg)
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - t0, 2),
                "steps": res.steps,
                "first_loss": res.first_loss,
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "rss_before_mb": round(rss0, 1),
            }
        )
    )


def main() -> None:
    from ennead.core.backends import load_backend
    from ennead.ddr.data import QARecord
    from ennead.ddr.modules import Generator
    from ennead.ddr.rollout import build_gen_pairs, gen_rollouts

    lm = load_backend("smollm2", device="cpu", batch_size=16)
    gen = Generator(lm, top_n=1, max_new_tokens=16)
    recs = [
        QARecord(id=str(i), question=q, answers=[p[0].split()[0]], passages=p)
        for i, (q, p) in enumerate(QUESTIONS)
    ]
    ctx = [r.passages for r in recs]
    temps, loops, new = [0.7], 2, 16
    gen_rollouts(gen, recs[:2], ctx[:2], temps, 1, max_new_tokens=4)  # warm-up
    t0 = time.perf_counter()
    cands = gen_rollouts(gen, recs, ctx, temps, loops, max_new_tokens=new)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for r, c in zip(recs, ctx):
        gen_rollouts(gen, [r], [c], temps, loops, max_new_tokens=new)
    single = time.perf_counter() - t0
    n = sum(len(c) for c in cands)
    pairs, _ = build_gen_pairs(gen, recs, ctx, cands)
    if len(pairs) < 4:  # make sure the DPO comparison has work: fall back to best/worst by text
        pairs = [
            {
                "prompt": gen.formatted(r.question, c),
                "chosen": " " + r.passages[0],
                "rejected": " I do not know.",
            }
            for r, c in zip(recs, ctx)
        ]
    results = {
        "rollout_completions": n,
        "rollout_batched_s": round(batched, 2),
        "rollout_one_at_a_time_s": round(single, 2),
        "rollout_batched_completions_per_s": round(n / batched, 2),
        "rollout_one_at_a_time_completions_per_s": round(n / single, 2),
        "rollout_speedup": round(single / batched, 2),
    }

    # DPO: same pairs and base model, 4 steps of batch 2, LoRA r 8 on q/v; each backend in its own
    # process so that peak RSS is its own.
    import json
    import subprocess

    from ennead.core.io import write_jsonl

    pairs_file = RESULTS_TMP / "ddr_pairs.jsonl"
    write_jsonl(pairs_file, pairs[:8])
    for backend in ("ennead", "trl"):
        out = subprocess.run(
            [sys.executable, __file__, "--dpo", backend, str(pairs_file), str(lm.model_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        for k, v in row.items():
            results[f"dpo_{backend}_{k}"] = v
    results["dpo_time_ratio_trl_over_ennead"] = round(
        results["dpo_trl_seconds"] / results["dpo_ennead_seconds"], 2
    )
    write_result("ddr", results)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--dpo":
        dpo_child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
