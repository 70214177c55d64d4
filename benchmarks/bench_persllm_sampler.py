"""PersLLM evaluation of one persona on SmolLM2-135M through each sampler (eval.sampler).

Run: nice -n 5 python benchmarks/bench_persllm_sampler.py [--threads 2]

Fixed before running: the first shipped persona (sorted by key), B0 prompts (SmolLM2 with the
persona's description: no trained model needed), the ``smollm2`` preset's eval settings (32 new
tokens, batch 32, temperature 0.8, seed 0) and four samplers in this order: hf, ct2 int8 with
exact: hf (the preset), ct2 int8, ct2 float32. Sized for a loaded 2-core machine: ``--rows`` (24)
of the persona's 156 scored prompts (a seeded sample, seed 0; the 100 general items left out) and
``--bleu-prompts`` 2 for distinction (2 questions x 2 stages x 2 samples). The whole evaluation
of one persona (256 greedy prompts with the persona's description as a long prefix) took over 18
minutes of wall time for hf alone at load 13 before it was stopped.

Each sampler answers the same prompts with the same seed in one process; reported per sampler:
wall and process CPU seconds (the switch's hash/save/convert included, and separately), the ratio
to hf, the metrics on the sample, and how many greedy answers are the same text as hf's. One run
each: on a shared machine the ratios carry the load's noise (the load average is recorded).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

SAMPLERS: dict[str, dict[str, Any]] = {
    "hf": {"name": "hf"},
    "ct2_int8_exact_hf": {
        "name": "ct2",
        "options": {"compute_type": "int8", "exact": "hf", "fallback": "hf"},
    },
    "ct2_int8": {"name": "ct2", "options": {"compute_type": "int8"}},
    "ct2_float32": {"name": "ct2", "options": {"compute_type": "float32"}},
}


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=list(SAMPLERS))
    ap.add_argument("--rows", type=int, default=24, help="scored prompts sampled (seed 0)")
    ap.add_argument("--bleu-prompts", type=int, default=2)
    ap.add_argument("--name", default="sampling", help="results/<name>.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    from ennead.core.assets import smollm2_dir
    from ennead.core.backends.sampling import sampling_backend
    from ennead.core.config import load_config
    from ennead.persllm.api import PersLLM
    from ennead.persllm.config import PersLLMConfig
    from ennead.persllm.evaluate import backend_generate, distinction, eval_prompts, score_row
    from ennead.persllm.train import load_model

    torch.set_num_threads(args.threads)
    cfg = load_config(PersLLMConfig, "smollm2", [], package="ennead.persllm")
    ev, seed = cfg.eval, cfg.seed
    persona = sorted(PersLLM(cfg).personas(), key=lambda p: p.key)[0]
    model, tok = load_model(smollm2_dir(), "cpu")
    work = Path(tempfile.mkdtemp(prefix="bench-sampler-"))
    rows = random.Random(0).sample(eval_prompts(tok, [persona], "b0", seed), args.rows)
    out: dict[str, Any] = {
        "model": "SmolLM2-135M-Instruct (CPU), B0 prompts",
        "persona": persona.key,
        "threads": args.threads,
        "eval": {
            "max_new_tokens": ev.max_new_tokens,
            "batch_size": ev.batch_size,
            "scored_prompts": args.rows,
            "bleu_prompts": args.bleu_prompts,
            "temperature": ev.temperature,
            "seed": seed,
        },
        "samplers": {},
    }
    answers_of: dict[str, list[str]] = {}
    for name in args.only:
        spec = SAMPLERS[name]
        load0 = os.getloadavg()[0]
        w0, c0 = time.perf_counter(), cpu_seconds()
        lm = sampling_backend(model, tok, spec, work, batch_size=ev.batch_size)
        prep_wall, prep_cpu = time.perf_counter() - w0, cpu_seconds() - c0
        gen = backend_generate(lm, ev.max_new_tokens, seed)
        answers = [a[0] for a in gen([r["prompt"] for r in rows], 0.0, 1)]
        ok = [score_row(r, a) for r, a in zip(rows, answers)]
        metrics = {"scored_share_passed": sum(ok) / len(ok)}
        for m in sorted({r["metric"] for r in rows}):
            sel = [o for r, o in zip(rows, ok) if r["metric"] == m]
            metrics[f"{m}_passed"] = sum(sel) / len(sel)
        greedy_wall = time.perf_counter() - w0
        metrics.update(
            distinction(gen, tok, [persona], "b0", args.bleu_prompts, ev.temperature, seed)
        )
        wall, cpu = time.perf_counter() - w0, cpu_seconds() - c0
        answers_of[name] = answers
        out["samplers"][name] = {
            "spec": spec,
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            "prepare_wall_s": round(prep_wall, 1),
            "prepare_cpu_s": round(prep_cpu, 1),
            "greedy_wall_s_incl_prepare": round(greedy_wall, 1),
            "sampled_wall_s": round(wall - greedy_wall, 1),
            "prepare": getattr(lm, "prepare_seconds", None),
            "load_avg_1min_start": round(load0, 2),
            "load_avg_1min_end": round(os.getloadavg()[0], 2),
            "greedy_answers": len(answers),
            "metrics": {k: round(v, 4) for k, v in metrics.items()},
        }
        print(name, out["samplers"][name], flush=True)
        hf = out["samplers"].get("hf")
        for k, v in out["samplers"].items() if hf else []:
            v["wall_ratio_hf_over_this"] = round(hf["wall_s"] / v["wall_s"], 2)
            v["cpu_ratio_hf_over_this"] = round(hf["cpu_s"] / v["cpu_s"], 2)
            same = zip(answers_of[k], answers_of["hf"])
            v["greedy_same_text_as_hf"] = sum(a == b for a, b in same)
        write_result(args.name, out)  # after each sampler: a stopped run keeps what it has
        del lm, gen


if __name__ == "__main__":
    main()
