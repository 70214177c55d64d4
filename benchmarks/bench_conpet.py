"""ConPET: the logit cache and the cost per task, on the controlled stream (tiny preset).

Dynamic ConPET with and without the logit cache (frozen modules' forward passes avoided at
evaluation, seconds per task), and training cost, wall time and peak memory per task of Static
and Dynamic ConPET against unlimited replay. Ratios are within this run (same machine, same
load). Run: ``python benchmarks/bench_conpet.py`` (about a minute of CPU).
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from common import write_result

from ennead.conpet.backbone import Backbone
from ennead.conpet.config import ConPETConfig
from ennead.conpet.harness import evaluate
from ennead.conpet.methods import make_learner
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


def main() -> None:
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
    write_result("conpet", out)


if __name__ == "__main__":
    main()
