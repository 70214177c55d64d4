"""ConPET: the logit cache and the cost per task, on the controlled stream (tiny preset).

Dynamic ConPET with and without the logit cache (frozen modules' forward passes avoided at
evaluation, seconds per task), and training cost, wall time and peak memory per task of Static
and Dynamic ConPET against unlimited replay. Ratios are within this run (same machine, same
load). Run: ``python benchmarks/bench_conpet.py`` (about a minute of CPU).

``--part mixed`` times only the frozen modules' forward of Dynamic ConPET: one mixed-adapter
batch (PEFT ``adapter_names=``) against one forward per adapter, over the same (module, example)
pairs, alternating the two and taking the median of each; it updates that key of the results.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from common import RESULTS, write_result

from ennead.conpet.backbone import Backbone
from ennead.conpet.config import ConPETConfig
from ennead.conpet.harness import evaluate
from ennead.conpet.methods import DynamicConPET, make_learner
from ennead.conpet.streams import build_stream
from ennead.core.config import load_config


class PeakRSS:
    """Peak resident memory while a block runs (sampled from /proc every 2 ms), in MiB."""

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self._rss()
        self._stop = False
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def _rss(self) -> int:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * 4096

    def _watch(self) -> None:
        while not self._stop:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.002)

    def __exit__(self, *exc: Any) -> None:
        self._stop = True
        self._t.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mib(self) -> float:
        return round((self.peak - self.start) / 2**20, 2)


def run(method: str, cfg: ConPETConfig, cache_dir: Path | None) -> list[dict[str, Any]]:
    stream = build_stream(cfg)
    bb = Backbone.build(cfg.backbone, cfg.lora, stream, seed=cfg.seed)
    bb.torch.manual_seed(0)
    learner = make_learner(method, bb, stream, cfg, cache_dir)
    rows = []
    for t in range(len(stream.tasks)):
        learner.start_task(t)
        with PeakRSS() as mem:
            cost = learner.train_task(t, random.Random(t))
            train = cost.as_dict()
            tic = time.perf_counter()
            ev = evaluate(learner, stream, t)
            eval_s = time.perf_counter() - tic
        rows.append(
            {
                "task": t + 1,
                "train_s": round(train["seconds"], 3),
                "train_forwards": train["forwards"],
                "eval_s": round(eval_s, 3),
                "eval_forwards": cost.forwards - train["forwards"],
                "eval_avoided": cost.avoided - train["avoided"],
                "peak_rss_mib": mem.mib,
                "macro": round(ev["macro"], 4),
            }
        )
    return rows


def mixed_vs_single(preset: str, overrides: list[str], rows: int, reps: int) -> dict[str, Any]:
    """Seconds to get frozen modules' logits for ``rows`` examples spread over every task's
    module: one mixed-adapter forward against one forward per module (cache off)."""
    cfg = load_config(
        ConPETConfig, preset, ["dynamic.logit_cache=false", *overrides], package="ennead.conpet"
    )
    stream = build_stream(cfg)
    bb = Backbone.build(cfg.backbone, cfg.lora, stream, seed=cfg.seed)
    learners = {}
    for mixed in (True, False):
        dyn = cfg.dynamic.model_copy(update={"mixed_batches": mixed})
        learners[mixed] = DynamicConPET(bb, stream, cfg.model_copy(update={"dynamic": dyn}), None)
    examples = [e for task in stream.tasks for e in task.test][:rows]
    T = len(stream.tasks)
    pairs = [(k % T, e) for k, e in enumerate(examples)]
    for learner in learners.values():  # warm-up (tokenizer cache, first-call overheads)
        learner._frozen_logits(pairs[: 2 * T])
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(reps):
        for mixed, learner in learners.items():
            tic = time.perf_counter()
            learner._frozen_logits(pairs)
            times[mixed].append(time.perf_counter() - tic)
    one, per = statistics.median(times[True]), statistics.median(times[False])
    return {
        "preset": preset,
        "overrides": overrides,
        "rows": len(pairs),
        "modules": T,
        "reps": reps,
        "mixed_seconds": [round(x, 4) for x in times[True]],
        "per_adapter_seconds": [round(x, 4) for x in times[False]],
        "mixed_over_per_adapter_median": round(one / per, 3),
    }


def mixed_part() -> dict[str, Any]:
    return {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "tiny": mixed_vs_single("tiny", [], rows=600, reps=7),
        "minilm": mixed_vs_single(
            "default", ["stream.max_per_label=150", "backbone.threads=1"], rows=250, reps=5
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["all", "mixed"], default="all")
    if parser.parse_args().part == "mixed":
        path = RESULTS / "conpet.json"
        old = json.loads(path.read_text(encoding="utf-8"))["results"] if path.is_file() else {}
        write_result("conpet", {**old, "mixed_batches": mixed_part()})
        return
    cfg = load_config(ConPETConfig, "tiny", package="ennead.conpet")
    out: dict[str, Any] = {}
    with TemporaryDirectory() as tmp:
        out["dynamic_cache"] = run("dynamic", cfg, Path(tmp) / "cache")
        nocache = cfg.model_copy(
            update={"dynamic": cfg.dynamic.model_copy(update={"logit_cache": False})}
        )
        out["dynamic_no_cache"] = run("dynamic", nocache, None)
        out["static"] = run("static", cfg, None)
        out["replay"] = run("replay", cfg, None)
    on, off = out["dynamic_cache"], out["dynamic_no_cache"]
    out["summary"] = {
        "eval_seconds_last_task_cache_over_no_cache": round(
            on[-1]["eval_s"] / off[-1]["eval_s"], 3
        ),
        "eval_forwards_last_task": [on[-1]["eval_forwards"], off[-1]["eval_forwards"]],
        "same_accuracy_with_and_without_cache": [r["macro"] for r in on]
        == [r["macro"] for r in off],
        **{
            f"{m}_train_seconds_task5_over_task2": round(
                out[m][-1]["train_s"] / out[m][1]["train_s"], 3
            )
            for m in ("static", "dynamic_cache", "replay")
        },
        **{
            f"{m}_peak_rss_mib_per_task": [r["peak_rss_mib"] for r in out[m]]
            for m in ("static", "dynamic_cache", "replay")
        },
    }
    out["mixed_batches"] = mixed_part()
    write_result("conpet", out)


if __name__ == "__main__":
    main()
