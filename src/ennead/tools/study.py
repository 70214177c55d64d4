"""The embedded-model study: untuned vs tool-trained SmolLM2, ReAct vs DFSDT at one call budget.

Fast enough for two CPU cores because every episode of a run is stepped together: each task runs
in its own thread, and :class:`BatchingLM` holds each thread's ``generate`` call until every live
episode is waiting, then answers all of them with one batched (left-padded, greedy) call. Prompts
show only the retrieved top-k tools; max new tokens is sized to the longest tool call in the
training rows; every response goes through the sqlite cache, so a rerun is free.

The sizes, seeds and the +20-point goal come from :class:`~ennead.tools.config.StudyConfig`,
fixed in the ``smollm2_study`` preset before the study was run.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.core.io import atomic_write_json, read_jsonl, write_jsonl
from ennead.core.results import RunResult
from ennead.tools.config import ToolsConfig
from ennead.tools.evaluate import record, run_task
from ennead.tools.tasks import Task, build_suite, split
from ennead.tools.toolbox import build_registry


class StudyResult(RunResult):
    parts: dict[str, dict[str, Any]]
    verdict: str


class BatchingLM:
    """A backend wrapper: ``generate`` calls from episode threads are answered in one batch once
    every live episode is waiting (or ``max_batch`` are). The flushing thread runs the model while
    holding the lock; the others are all blocked in ``generate`` or in a tool call by then."""

    def __init__(self, lm: Any, max_batch: int = 64):
        self.lm, self.max_batch = lm, max_batch
        self.name = getattr(lm, "name", "lm")
        self.tokenizer = getattr(lm, "tokenizer", None)
        self._cv = threading.Condition()
        self._pending: list[tuple[list[Any], Any, dict[str, Any]]] = []
        self.active = 0
        self.batches: list[int] = []  # sizes, for the report

    def start(self, n: int) -> None:
        with self._cv:
            self.active += n

    def leave(self) -> None:
        with self._cv:
            self.active -= 1
            self._flush()

    def generate(self, prompts: Sequence[Any], params: Any) -> list[Any]:
        slot: dict[str, Any] = {}
        with self._cv:
            self._pending.append((list(prompts), params, slot))
            self._flush()
            while "out" not in slot and "err" not in slot:
                self._cv.wait()
        if "err" in slot:
            raise slot["err"]
        return slot["out"]  # type: ignore[no-any-return]

    def _flush(self) -> None:
        if not self._pending or len(self._pending) < min(max(self.active, 1), self.max_batch):
            return
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        groups: dict[str, list[tuple[list[Any], Any, dict[str, Any]]]] = {}
        for item in batch:  # one generate call per distinct SamplingParams
            groups.setdefault(repr(item[1]), []).append(item)
        for items in groups.values():
            flat = [p for ps, _, _ in items for p in ps]
            self.batches.append(len(flat))
            try:
                outs = self.lm.generate(flat, items[0][1])
            except Exception as e:  # every waiting episode sees the failure as its own
                for _, _, slot in items:
                    slot["err"] = e
                continue
            i = 0
            for ps, _, slot in items:
                slot["out"] = outs[i : i + len(ps)]
                i += len(ps)
        self._cv.notify_all()


def run_batched(
    policy: Any,
    gate: BatchingLM,
    tasks: Sequence[Task],
    agent: str,
    max_steps: int,
    budget: int,
    width: int = 2,
    retrieve_k: int = 0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every task in its own thread, the policy's model calls batched by ``gate``."""
    known = build_registry(None).names()
    out: list[Any] = [None] * len(tasks)
    gate.start(len(tasks))

    def work(i: int) -> None:
        try:
            out[i] = run_task(
                policy, tasks[i], agent, max_steps, budget, width, retrieve_k=retrieve_k
            )
        finally:
            gate.leave()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(tasks))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    recs, traces = [], []
    for t, res in zip(tasks, out, strict=True):
        if res is None:  # the thread died before returning (it should not: agents catch errors)
            from ennead.core.errors import StageError

            raise StageError(f"task {t.id} did not finish")
        tr, passed = res
        recs.append(record(t, tr, passed, known) | {"group": group_of(t)})
        traces.append(tr.to_dict() | {"passed": passed})
    return recs, traces


def group_of(t: Task) -> str:
    return "unsolvable" if t.kind == "unsolvable" else t.split


def sample_tasks(sizes: dict[str, int], seed: int) -> list[Task]:
    """A seeded sample of the held-out tasks per group (inst solvable, unsolvable, tool, cat)."""
    suite = split(build_suite(), "test")
    rng = random.Random(seed)
    out: list[Task] = []
    for g, n in sizes.items():
        pool = [t for t in suite if group_of(t) == g]
        out += sorted(rng.sample(pool, min(n, len(pool))), key=lambda t: t.id)
    return out


def bootstrap_ci(xs: Sequence[float], n: int, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean, resampling tasks (``core.eval.stats``)."""
    from ennead.core.eval.stats import bootstrap_mean

    if not xs:
        return (float("nan"), float("nan"))
    iv = bootstrap_mean(xs, n_resamples=n, seed=seed)
    return (iv.low, iv.high)


def rates(recs: Sequence[dict[str, Any]], n_boot: int) -> dict[str, Any]:
    """Pass rate with a bootstrap interval per group, plus tool-call counts."""
    out: dict[str, Any] = {}
    groups = sorted({r["group"] for r in recs})
    for g in [*groups, "all"]:
        xs = [float(r["passed"]) for r in recs if g == "all" or r["group"] == g]
        lo, hi = bootstrap_ci(xs, n_boot)
        out[g] = {"pass_rate": sum(xs) / len(xs), "ci95": [lo, hi], "tasks": len(xs)}
    out["tool_calls_per_task"] = sum(r["tool_calls"] for r in recs) / len(recs)
    out["hallucinated_per_task"] = sum(r["hallucinated"] for r in recs) / len(recs)
    out["bad_format_or_error_per_task"] = sum(r["errors"] for r in recs) / len(recs)
    return out


def paired_gain(
    tuned: Sequence[Sequence[dict[str, Any]]],
    base: Sequence[dict[str, Any]],
    group: str,
    n_boot: int,
) -> dict[str, Any]:
    """Tuned (mean over seeds, per task) minus untuned on ``group``, in points, with a paired
    bootstrap interval over tasks."""
    b = {r["task"]: float(r["passed"]) for r in base if r["group"] == group}
    diffs = []
    for tid, v in b.items():
        per_seed = [float(r["passed"]) for recs in tuned for r in recs if r["task"] == tid]
        diffs.append(100.0 * (sum(per_seed) / len(per_seed) - v))
    lo, hi = bootstrap_ci(diffs, n_boot, seed=1)
    return {"gain_points": sum(diffs) / len(diffs), "ci95": [lo, hi], "tasks": len(diffs)}


def run_study(cfg: ToolsConfig, run_dir: str | Path, lm: Any = None) -> StudyResult:
    """Untuned ReAct and DFSDT, then per seed: LoRA SFT on rule-policy DFSDT traces of the train
    tasks, tuned ReAct (and DFSDT if ``study.tuned_dfsdt``). Writes ``study.json``."""
    from ennead.core.backends import load_backend
    from ennead.core.backends.sampling import sampling_backend
    from ennead.tools.cache import ResponseCache
    from ennead.tools.policies import LMPolicy, RulePolicy
    from ennead.tools.train import build_traces, sft_rows, train_lora

    s, a, p, t = cfg.study, cfg.agent, cfg.policy, cfg.train
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    wall: dict[str, float] = {}
    try:
        import torch

        torch.set_num_threads(s.threads)
    except ImportError:  # pragma: no cover - the lm extra brings torch
        pass
    if lm is None:
        kw: dict[str, Any] = {"max_input_tokens": t.max_input_tokens}
        if p.backend not in ("tiny", "smollm2"):
            kw["model"] = p.model
        lm = load_backend(p.backend, **kw)
    lm.batch_size = s.batch
    wall["load"] = time.monotonic() - t_start

    t0 = time.monotonic()
    traces = build_traces(RulePolicy(), split(build_suite(), "train"), t.teacher_budget, 8, 2)
    rows = sft_rows(traces, lm, a.retrieve_k)
    write_jsonl(run / "sft_rows.jsonl", rows)
    longest = max(len(lm.tokenizer(r["completion"])["input_ids"]) for r in rows)
    new_tokens = s.new_tokens or longest + 4
    wall["traces"] = time.monotonic() - t0

    tasks = sample_tasks(s.sizes, s.sample_seed)
    parts: dict[str, dict[str, Any]] = {}
    recs_of: dict[str, list[dict[str, Any]]] = {}
    (run / "tasks.json").write_text(json.dumps([t.id for t in tasks]), encoding="utf-8")

    def done(tag: str, agent: str) -> bool:
        return (run / tag / f"{agent}_records.jsonl").is_file() and (
            run / tag / f"{agent}_part.json"
        ).is_file()

    def evaluate(model: Any, tag: str, agent: str) -> None:
        name = f"{tag}-{agent}"
        if done(tag, agent):  # read back: a rerun or a merge of parts run elsewhere
            recs_of[name] = read_jsonl(run / tag / f"{agent}_records.jsonl")
            parts[name] = json.loads((run / tag / f"{agent}_part.json").read_text("utf-8"))
            return
        t1 = time.monotonic()
        sampler = sampling_backend(
            model.model,
            model.tokenizer,
            t.sampler,
            run / "sampler",
            batch_size=s.batch,
            max_input_tokens=getattr(model, "max_input_tokens", None),
            hf_class=type(model),
        )
        gate = BatchingLM(sampler, s.batch)
        cache = ResponseCache(run / tag / "responses.sqlite")
        pol = LMPolicy(gate, cache, new_tokens, 0.0, seed=cfg.seed)
        steps = s.react_steps if agent == "react" else s.dfsdt_steps
        recs, trs = run_batched(pol, gate, tasks, agent, steps, s.budget, a.width, a.retrieve_k)
        write_jsonl(run / tag / f"{agent}_traces.jsonl", trs)
        recs_of[name] = recs
        parts[name] = rates(recs, s.bootstrap) | {
            "wall_s": time.monotonic() - t1,
            "generate_calls": len(gate.batches),
            "mean_batch": sum(gate.batches) / max(1, len(gate.batches)),
            "cache_hits": cache.hits,
        }
        cache.close()
        atomic_write_json(run / tag / f"{agent}_part.json", parts[name])
        write_jsonl(run / tag / f"{agent}_records.jsonl", recs)
        atomic_write_json(run / "study.json", _summary(cfg, parts, wall, new_tokens, len(rows)))

    agents = ["react", "dfsdt"] if s.tuned_dfsdt else ["react"]
    for agent in ("react", "dfsdt"):
        if "untuned" in s.parts or done("untuned", agent):
            evaluate(lm, "untuned", agent)
    done_seeds: list[int] = []
    for seed in s.seeds:
        tag = f"tuned-seed{seed}"
        if all(done(tag, ag) for ag in agents) and (run / tag / "train.json").is_file():
            parts[f"train-seed{seed}"] = json.loads((run / tag / "train.json").read_text("utf-8"))
            for ag in agents:
                evaluate(None, tag, ag)
            done_seeds.append(seed)
            continue
        if "tuned" not in s.parts:
            continue
        if s.deadline_s is not None and time.monotonic() - t_start > s.deadline_s:
            continue
        t1 = time.monotonic()
        base = type(lm).from_model(copy.deepcopy(lm.model), lm.tokenizer, batch_size=s.batch)
        tuned, res = train_lora(
            base, rows, t.steps, t.lr, t.batch_size, t.max_length, t.lora_r, seed
        )
        tuned.batch_size = s.batch
        wall[f"train_seed{seed}"] = time.monotonic() - t1
        parts[f"train-seed{seed}"] = {
            "first_loss": res.first_loss,
            "final_loss": res.final_loss,
            "steps": res.steps,
            "wall_s": wall[f"train_seed{seed}"],
        }
        (run / tag).mkdir(parents=True, exist_ok=True)
        atomic_write_json(run / tag / "train.json", parts[f"train-seed{seed}"])
        for ag in agents:
            evaluate(tuned, tag, ag)
        done_seeds.append(seed)
        del tuned, base, res

    summary = _summary(cfg, parts, wall, new_tokens, len(rows))
    tuned_recs = [recs_of[f"tuned-seed{sd}-react"] for sd in done_seeds]
    verdict = (
        "no tuned seed finished"
        if not tuned_recs
        else "untuned ReAct not in this run folder yet: rerun with study.parts=[] to merge"
    )
    if tuned_recs and "untuned-react" in recs_of:
        gains = {
            g: paired_gain(tuned_recs, recs_of["untuned-react"], g, s.bootstrap)
            for g in ("inst", "tool", "cat", "unsolvable")
        }
        per_seed = [rates(r, s.bootstrap)["inst"]["pass_rate"] for r in tuned_recs]
        goal = gains["inst"]["gain_points"] >= s.threshold_points
        verdict = (
            f"tuned vs untuned on unseen instructions: {gains['inst']['gain_points']:+.1f} points "
            f"(paired 95% CI {gains['inst']['ci95'][0]:+.1f}..{gains['inst']['ci95'][1]:+.1f}) "
            f"over {len(done_seeds)} seed(s); goal +{s.threshold_points:g}: "
            + ("met" if goal else "not met")
        )
        summary |= {"gains_react": gains, "tuned_inst_per_seed": per_seed, "goal_met": goal}
    summary |= {"seeds_done": done_seeds, "verdict": verdict, "total_wall_s": _total(t_start)}
    path = atomic_write_json(run / "study.json", summary)
    metrics = {
        f"{k}_{g}": v[g]["pass_rate"]
        for k, v in parts.items()
        if "pass_rate" in v.get("all", {})
        for g in ("inst", "tool", "cat", "unsolvable", "all")
        if g in v
    }
    return StudyResult(
        run_dir=run, metrics=metrics, artifacts={"study": path}, parts=parts, verdict=verdict
    )


def _total(t_start: float) -> float:
    return time.monotonic() - t_start


def _summary(
    cfg: ToolsConfig, parts: dict[str, Any], wall: dict[str, float], new_tokens: int, rows: int
) -> dict[str, Any]:
    return {
        "config": cfg.model_dump(mode="json"),
        "max_new_tokens": new_tokens,
        "sft_rows": rows,
        "wall_s": wall,
        "parts": parts,
    }
