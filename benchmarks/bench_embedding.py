"""MiniLM embedding throughput: batch 64 against batch 1 on the same sentences, same run.

Run: python benchmarks/bench_embedding.py [--n 512] [--device cpu|auto|cuda]
Writes benchmarks/results/embedding.json (numbers, versions, machine, torch threads).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

WORDS = (
    "the a retrieval model passage question answer large small city river mountain energy cell "
    "planet language system train data score rank index vector dense sparse query document "
    "history music science paper result method quickly slowly under over between because"
)


def sentences(n: int, seed: int = 0) -> list[str]:
    """Deterministic sentences of 6 to 30 words, so lengths vary as in a real corpus."""
    rng = random.Random(seed)
    words = WORDS.split()
    return [" ".join(rng.choices(words, k=rng.randint(6, 30))) + "." for _ in range(n)]


def throughput(embedder, texts: list[str], batch_size: int, repeats: int) -> dict[str, float]:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, len(texts), batch_size):
            embedder.encode(texts[i : i + batch_size], batch_size=batch_size)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": round(best, 4), "sentences_per_s": round(len(texts) / best, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="sentences per measurement")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many passes")
    args = parser.parse_args()

    import torch

    from ennead.core.retrieval.embedders import get_embedder

    t0 = time.perf_counter()
    embedder = get_embedder("minilm", device=args.device)
    load_s = time.perf_counter() - t0
    texts = sentences(args.n)
    embedder.encode(texts[:64], batch_size=64)  # warm-up: first call pays for lazy init
    batched = throughput(embedder, texts, 64, args.repeats)
    single = throughput(embedder, texts, 1, args.repeats)
    write_result(
        "embedding",
        {
            "model": "all-MiniLM-L6-v2 (embedded)",
            "device": embedder.device,
            "torch_threads": torch.get_num_threads(),
            "n_sentences": args.n,
            "mean_words": round(sum(len(t.split()) for t in texts) / len(texts), 1),
            "repeats": args.repeats,
            "load_s": round(load_s, 3),
            "batch_64": batched,
            "batch_1": single,
            "speedup_batch64_over_batch1": round(
                batched["sentences_per_s"] / single["sentences_per_s"], 2
            ),
        },
    )


if __name__ == "__main__":
    main()
