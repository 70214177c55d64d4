"""Generation throughput of SmolLM2-135M on the CPU: hf generate vs ct2 float32 vs ct2 int8.

Run: python benchmarks/bench_generation.py [--threads 2] [--new-tokens 32]

One process times the three engines interleaved, batch size by batch size (1, 16 and 64), so a
change of load on a shared machine hits them alike. Greedy decoding, every completion forced to
the same length (min_new_tokens = max_new_tokens), fixed chat prompts. Reported per engine and
batch size: tokens/s, the ratio to hf, greedy agreement with hf (identical token ids), and the
share of the compute limit: an fp32 matmul rate measured in the same run (before and after)
divided by 2 FLOPs per parameter per token. Peak RSS is measured per engine in a child process
(load, then one batch of 16), so one engine's memory does not hide another's.
``--cpu-efficiency`` adds tokens per CPU-second with one thread per engine: on a loaded machine
wall-clock rates mostly measure how an engine's threads cope with other processes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

TOPICS = [
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
STYLES = ["", " Answer briefly.", " Explain it to a child.", " Use one sentence."]
PROMPTS = [t + s for s in STYLES for t in TOPICS]  # 64 fixed prompts
ENGINES = {
    "hf": ("smollm2", {}),
    "ct2_float32": ("ct2", {"compute_type": "float32"}),
    "ct2_int8": ("ct2", {"compute_type": "int8"}),
}
BATCHES = {1: 4, 16: 16, 64: 64}  # batch size -> prompts generated (batch 1: one at a time)
PARAMS_135M = 134_515_008  # SmolLM2-135M, tied embeddings counted once


def load(engine: str, threads: int, batch_size: int) -> Any:
    from ennead.core.backends import load_backend

    name, opts = ENGINES[engine]
    if name == "ct2":
        opts = {**opts, "intra_threads": threads}
    return load_backend(name, device="cpu", batch_size=batch_size, options=opts)


def matmul_gflops(threads: int, size: int = 1024, seconds: float = 3.0) -> float:
    """fp32 GEMM rate of torch on this machine now (FLOPs = 2 n^3 per product)."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    return 2 * size**3 * n / (time.perf_counter() - t0) / 1e9


def chats(n: int) -> list[Any]:
    return [[{"role": "user", "content": p}] for p in PROMPTS[:n]]


def run_batch(lm: Any, batch: int, n_prompts: int, new_tokens: int) -> tuple[list[Any], float]:
    from ennead.core.backends.base import SamplingParams

    params = SamplingParams(max_new_tokens=new_tokens, min_new_tokens=new_tokens)
    lm.batch_size = batch
    prompts = chats(n_prompts)
    t0 = time.perf_counter()
    if batch == 1:
        rows = [lm.generate([p], params)[0] for p in prompts]
    else:
        rows = lm.generate(prompts, params)
    return [r[0].token_ids for r in rows], time.perf_counter() - t0


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child_rss(engine: str, threads: int, new_tokens: int) -> dict[str, Any]:
    """In a child process: load the engine, generate one batch of 16; peak RSS in MiB."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "import bench_generation as b;"
        "import torch; torch.set_num_threads(int(sys.argv[3]));"
        "lm = b.load(sys.argv[2], int(sys.argv[3]), 16);"
        "b.run_batch(lm, 16, 16, int(sys.argv[4]));"
        "print(json.dumps({'peak_rss_mib': b.peak_rss_mib()}))"
    )
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here, engine, str(threads), str(new_tokens)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(new_tokens: int = 32, threads: int = 2) -> None:
    import torch

    torch.set_num_threads(threads)
    load_before = os.getloadavg()[0]
    gflops = [matmul_gflops(threads)]
    t0 = time.perf_counter()
    engines = {e: load(e, threads, 16) for e in ENGINES}
    load_s = round(time.perf_counter() - t0, 1)
    for lm in engines.values():  # warm-up (and first conversions are outside the timing)
        run_batch(lm, 2, 2, 4)
    rows: dict[str, dict[str, Any]] = {e: {} for e in ENGINES}
    for batch, n_prompts in BATCHES.items():
        ref: list[Any] = []
        for engine, lm in engines.items():
            ids, secs = run_batch(lm, batch, n_prompts, new_tokens)
            tokens = sum(len(t) for t in ids)
            if engine == "hf":
                ref = ids
            rows[engine][f"batch_{batch}"] = {
                "prompts": n_prompts,
                "tokens": tokens,
                "seconds": round(secs, 2),
                "tokens_per_s": round(tokens / secs, 1),
                "identical_greedy_to_hf": f"{sum(a == b for a, b in zip(ids, ref))}/{n_prompts}",
            }
            print(engine, batch, rows[engine][f"batch_{batch}"], flush=True)
    gflops.append(matmul_gflops(threads))
    mean_gflops = sum(gflops) / len(gflops)
    bound = mean_gflops * 1e9 / (2 * PARAMS_135M)
    for engine in ENGINES:
        for key, row in rows[engine].items():
            hf_tps = rows["hf"][key]["tokens_per_s"]
            row["speedup_vs_hf"] = round(row["tokens_per_s"] / hf_tps, 2)
            row["share_of_compute_bound"] = round(row["tokens_per_s"] / bound, 3)
    del engines
    rss = {e: child_rss(e, threads, 8) for e in ENGINES}
    write_result(
        "generation",
        {
            "model": "SmolLM2-135M-Instruct (CPU)",
            "threads": threads,
            "new_tokens_per_prompt": new_tokens,
            "batches": {str(b): n for b, n in BATCHES.items()},
            "load_average_1min": {
                "start": round(load_before, 2),
                "end": round(os.getloadavg()[0], 2),
            },
            "matmul_fp32_gflops": [round(g, 1) for g in gflops],
            "compute_bound_tokens_per_s": round(bound, 1),
            "engines_load_seconds": load_s,
            "engines": rows,
            "peak_rss_mib_load_plus_batch16": rss,
            "this_process_peak_rss_mib": peak_rss_mib(),
        },
    )


def cpu_efficiency(new_tokens: int = 16) -> None:
    """Tokens per CPU-second with one thread per engine (no OpenMP threads spinning against the
    load of a shared machine), batch 16 and 64; added to generation.json as ``cpu_efficiency``."""
    import torch

    torch.set_num_threads(1)
    a, m = torch.randn(1024, 1024), torch.randn(1024, 1024)
    n, c0 = 0, time.process_time()
    while time.process_time() - c0 < 3.0:
        a @ m
        n += 1
    gflops = 2 * 1024**3 * n / (time.process_time() - c0) / 1e9
    bound = gflops * 1e9 / (2 * PARAMS_135M)
    out: dict[str, Any] = {
        "threads": 1,
        "new_tokens_per_prompt": new_tokens,
        "matmul_fp32_gflops_per_cpu_s": round(gflops, 1),
        "compute_bound_tokens_per_cpu_s": round(bound, 1),
        "load_average_1min_start": round(os.getloadavg()[0], 2),
    }
    engines = {e: load(e, 1, 64) for e in ENGINES}
    for lm in engines.values():
        run_batch(lm, 2, 2, 2)
    for batch in (16, 64):
        ref: list[Any] = []
        for engine, lm in engines.items():
            c0 = time.process_time()
            ids, secs = run_batch(lm, batch, batch, new_tokens)
            cpu = time.process_time() - c0
            tokens = sum(len(t) for t in ids)
            ref = ids if engine == "hf" else ref
            out[f"{engine}_batch_{batch}"] = {
                "tokens_per_cpu_s": round(tokens / cpu, 1),
                "tokens_per_s": round(tokens / secs, 1),
                "share_of_compute_bound": round(tokens / cpu / bound, 3),
                "identical_greedy_to_hf": f"{sum(x == y for x, y in zip(ids, ref))}/{batch}",
            }
            print(engine, batch, out[f"{engine}_batch_{batch}"], flush=True)
    out["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    from common import RESULTS

    path = RESULTS / "generation.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["results"]["cpu_efficiency"] = out
    from ennead.core.io import atomic_write_json

    atomic_write_json(path, payload)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch and ct2 threads")
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument(
        "--cpu-efficiency",
        action="store_true",
        help="only the one-thread tokens per CPU-second comparison (added to generation.json)",
    )
    args = ap.parse_args()
    if args.cpu_efficiency:
        cpu_efficiency()
    else:
        main(args.new_tokens, args.threads)
