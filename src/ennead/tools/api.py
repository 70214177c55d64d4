"""The tool-learning facade: ls, call, run, evaluate, traces, train, report, check, demo, serve-mcp.

``train`` is this system's ``train`` verb in the ToolLLaMA sense: solution traces from a teacher,
LoRA SFT of a small model, evaluation of the untuned and the tuned model on held-out tasks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ennead.core.checks import check_inputs
from ennead.core.errors import ConfigError, DataError, StageError
from ennead.core.eval.report import Report
from ennead.core.io import atomic_write_json, read_jsonl, write_jsonl
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir, default_run_path
from ennead.tools.config import ToolsConfig
from ennead.tools.tasks import Task, build_suite, split

CHECKERS = ("number", "numbers", "contains", "file", "refuse")
KINDS = ("single", "multi", "unsolvable")


class ToolList(RunResult):
    tools: list[dict[str, Any]]


class CallResult(RunResult):
    tool: str
    status: str
    output: str


class AgentResult(RunResult):
    status: str
    answer: str | None
    passed: bool | None = None


class EvalResult(RunResult):
    by_split: dict[str, dict[str, float]]


class TracesResult(RunResult):
    traces: int
    rows: int


class ToolTrainResult(RunResult):
    untuned: dict[str, float]
    tuned: dict[str, float]


def load_tasks(path: str | Path) -> list[Task]:
    """User tasks, JSONL: ``{"id", "instruction", "checker": {"type", ...}}`` plus optional
    ``kind`` (single|multi|unsolvable), ``tools`` (known tool names) and ``split``; problems name
    the file and line."""
    from ennead.tools.toolbox import build_registry

    known = set(build_registry(None).names())
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"not valid JSON: {e.msg} (column {e.colno})", path, i) from None
        if not isinstance(obj, dict):
            raise DataError("each line must be a JSON object", path, i)
        for key in ("id", "instruction", "checker"):
            if key not in obj:
                raise DataError(f"missing required key {key!r}", path, i)
        extra = set(obj) - {"id", "instruction", "checker", "kind", "tools", "split"}
        if extra:
            raise DataError(
                f"unknown keys {sorted(extra)}; allowed: id, instruction, checker, "
                "kind, tools, split",
                path,
                i,
            )
        tid = str(obj["id"])
        if tid in seen:
            raise DataError(f"duplicate id {tid!r} (first on line {seen[tid]})", path, i)
        seen[tid] = i
        if not isinstance(obj["instruction"], str) or not obj["instruction"].strip():
            raise DataError("'instruction' must be a non-empty string", path, i)
        c = obj["checker"]
        if not isinstance(c, dict) or c.get("type") not in CHECKERS:
            raise DataError(f"checker.type must be one of {', '.join(CHECKERS)}", path, i)
        if c["type"] == "number" and not isinstance(c.get("value"), (int, float)):
            raise DataError("checker.value must be a number for type 'number'", path, i)
        if c["type"] in ("contains", "file") and not isinstance(c.get("value"), str):
            raise DataError(f"checker.value must be a string for type {c['type']!r}", path, i)
        kind = obj.get("kind", "unsolvable" if c["type"] == "refuse" else "single")
        if kind not in KINDS:
            raise DataError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", path, i)
        tools = obj.get("tools", [])
        bad = [t for t in tools if t not in known] if isinstance(tools, list) else [tools]
        if bad:
            raise DataError(f"unknown tools {bad}; known: {', '.join(sorted(known))}", path, i)
        checker = {"rtol": 0.01, **c}
        tasks.append(
            Task(
                tid,
                obj["instruction"],
                "user",
                "user",
                kind,
                list(tools),
                checker,
                [],
                str(obj.get("split", "test")),
            )
        )
    if not tasks:
        raise DataError("no tasks in file", path)
    return tasks


class Tools:
    def __init__(self, config: ToolsConfig | None = None):
        self.config = config or ToolsConfig()

    # ------------------------------------------------------------------ tools and serving
    def registry(self, workspace: str | Path | None = None) -> Any:
        from ennead.tools.toolbox import build_registry

        a = self.config.agent
        return build_registry(
            workspace,
            online=self.config.online,
            max_output_chars=a.max_output_chars,
            timeout_s=a.tool_timeout_s,
        )

    def ls(self) -> ToolList:
        reg = self.registry()
        tools = [
            {
                "name": t.name,
                "category": t.category,
                "signature": t.signature(),
                "description": t.description,
                "tags": list(t.tags),
            }
            for t in reg.tools.values()
        ]
        return ToolList(metrics={"tools": float(len(tools))}, tools=tools)

    def call(
        self, name: str, args: str | dict[str, Any], workspace: str | Path | None = None
    ) -> CallResult:
        res = self.registry(workspace).call(name, args)
        return CallResult(
            metrics={"ok": float(res.ok), "seconds": res.seconds},
            tool=res.tool,
            status=res.status,
            output=res.observation(),
        )

    def serve_mcp(
        self,
        transport: str = "stdio",
        host: str = "127.0.0.1",
        port: int = 8765,
        workspace: str | Path | None = None,
    ) -> None:
        from ennead.tools import mcp_server

        reg = self.registry(workspace)
        if transport == "stdio":
            mcp_server.serve_stdio(reg)
        elif transport == "http":
            mcp_server.serve_http(reg, host, port)
        else:
            raise ConfigError(f"MCP transport must be 'stdio' or 'http', got {transport!r}")

    # ------------------------------------------------------------------ agents
    def policy(self, cache_dir: Path | None = None) -> Any:
        from ennead.tools.policies import NoisyPolicy, RulePolicy

        p = self.config.policy
        if p.kind == "rule":
            return RulePolicy()
        if p.kind == "noisy":
            return NoisyPolicy(p.error_rate, p.give_up_rate, self.config.seed)
        return self._lm_policy(self._backend(), cache_dir)

    def _backend(self) -> Any:
        from ennead.core.backends import load_backend

        p = self.config.policy
        if p.native:
            return None
        if p.backend == "openai":
            return load_backend(
                "openai", model=p.model, options={"base_url": p.base_url} if p.base_url else {}
            )
        if p.backend in ("tiny", "smollm2"):
            return load_backend(p.backend)
        if p.backend == "ct2" and p.model == "smollm2":  # the embedded model, served by ct2
            return load_backend("ct2")
        return load_backend(p.backend, model=p.model)

    def _lm_policy(self, lm: Any, cache_dir: Path | None) -> Any:
        from ennead.tools.cache import ResponseCache
        from ennead.tools.policies import LMPolicy, http_chat

        p = self.config.policy
        cache_path = p.cache or (cache_dir / "responses.sqlite" if cache_dir else None)
        cache = ResponseCache(cache_path) if cache_path else None
        client = None
        if p.native:
            if not p.base_url:
                raise ConfigError(
                    "policy.native needs policy.base_url (an OpenAI-compatible "
                    "server, e.g. vLLM with --enable-auto-tool-choice)"
                )
            client = http_chat(p.base_url)
        return LMPolicy(
            lm, cache, p.max_new_tokens, p.temperature, p.native, client, p.model, self.config.seed
        )

    def _agent(self) -> str:
        return self.config.agent.kind

    def run(
        self,
        instruction: str,
        run_dir: str | Path | None = None,
        observer: Callable[[Any], None] | None = None,
    ) -> AgentResult:
        from ennead.tools.evaluate import run_task

        if not instruction.strip():
            raise ConfigError("the instruction is empty")
        run = Path(run_dir or default_run_path("tools-run"))
        run.mkdir(parents=True, exist_ok=True)
        task = Task(
            "cli",
            instruction,
            "cli",
            "cli",
            "single",
            [],
            {"type": "contains", "value": ""},
            [],
            "test",
        )
        a = self.config.agent
        tr, _ = run_task(
            self.policy(run),
            task,
            self._agent(),
            a.max_steps,
            a.budget,
            a.width,
            observer,
            max_output_chars=a.max_output_chars,
            tool_timeout_s=a.tool_timeout_s,
            retrieve_k=a.retrieve_k,
        )
        path = atomic_write_json(run / "trace.json", tr.to_dict())
        return AgentResult(
            run_dir=run,
            metrics={"policy_calls": float(tr.policy_calls), "tool_calls": float(tr.tool_calls)},
            artifacts={"trace": path},
            status=tr.status,
            answer=tr.answer,
        )

    def tasks(self, data: str | Path | None = None) -> list[Task]:
        if data is not None:
            tasks = load_tasks(data)
        else:
            tasks = list(split(build_suite(), self.config.split))
        return tasks[: self.config.limit] if self.config.limit else tasks

    def evaluate(
        self, run_dir: str | Path | None = None, data: str | Path | None = None
    ) -> EvalResult:
        from ennead.tools.evaluate import by, run_suite, summarize

        run = RunDir.create(run_dir or default_run_path("tools"), self.config, system="tools")
        tasks = self.tasks(data)
        a = self.config.agent
        traces: list[dict[str, Any]] = []
        recs = run_suite(
            self.policy(run.path),
            tasks,
            self._agent(),
            a.max_steps,
            a.budget,
            a.width,
            traces,
            max_output_chars=a.max_output_chars,
            tool_timeout_s=a.tool_timeout_s,
            retrieve_k=a.retrieve_k,
        )
        metrics = summarize(recs)
        splits = by(recs, "split")
        write_jsonl(run.path / "records.jsonl", recs)
        tpath = write_jsonl(run.path / "traces.jsonl", traces)
        epath = atomic_write_json(
            run.path / "eval.json",
            {
                "overall": metrics,
                "by_split": splits,
                "by_kind": by(recs, "kind"),
                "agent": self._agent(),
                "policy": self.config.policy.kind,
            },
        )
        run.finish(summary=metrics)
        return EvalResult(
            run_dir=run.path,
            metrics=metrics,
            by_split=splits,
            artifacts={"eval": epath, "traces": tpath},
        )

    # ------------------------------------------------------------------ training
    def traces(self, run_dir: str | Path | None = None) -> TracesResult:
        from ennead.tools.train import build_traces

        run = RunDir.create(
            run_dir or default_run_path("tools-traces"), self.config, system="tools"
        )
        tasks = list(split(build_suite(), "train"))
        teacher = self.policy(run.path) if self.config.train.teacher == "lm" else None
        if teacher is None:
            from ennead.tools.policies import RulePolicy

            teacher = RulePolicy()
        a = self.config.agent
        tr = build_traces(teacher, tasks, self.config.train.teacher_budget, 8, a.width)
        path = write_jsonl(run.path / "solution_traces.jsonl", tr)
        steps = sum(len(t["chain"]) for t in tr)
        return TracesResult(
            run_dir=run.path,
            metrics={"traces": float(len(tr)), "kept": len(tr) / max(1, len(tasks))},
            artifacts={"traces": path},
            traces=len(tr),
            rows=steps,
        )

    def train(self, run_dir: str | Path | None = None) -> ToolTrainResult:
        """Traces (built if missing) -> LoRA SFT of the student -> untuned vs tuned on held-out."""
        from ennead.core.backends import load_backend
        from ennead.tools.evaluate import run_suite, summarize
        from ennead.tools.train import sft_rows, train_lora

        run_path = Path(run_dir or default_run_path("tools-train"))
        tpath = run_path / "solution_traces.jsonl"
        if not tpath.is_file():
            self.traces(run_path)
        traces = read_jsonl(tpath)
        if not traces:
            raise StageError(f"{tpath} holds no passing traces; nothing to train on")
        t = self.config.train
        kw: dict[str, Any] = {"max_input_tokens": t.max_input_tokens}
        if t.student == "hf":
            kw["model"] = t.student_model
        student = load_backend(t.student, **kw)
        rows = sft_rows(traces, student, self.config.agent.retrieve_k)
        write_jsonl(run_path / "sft_rows.jsonl", rows)
        held: dict[str, list[Task]] = {}
        for name in ("inst", "tool", "cat"):
            ts = list(split(build_suite(), name))
            held[name] = ts[: self.config.eval_limit] if self.config.eval_limit else ts
        a = self.config.agent

        def score(trained: Any, tag: str) -> dict[str, float]:
            from ennead.core.backends.sampling import sampling_backend

            lm = sampling_backend(
                trained.model,
                trained.tokenizer,
                t.sampler,
                run_path / "sampler",
                batch_size=trained.batch_size,
                max_input_tokens=trained.max_input_tokens,
                hf_class=type(trained),
            )
            out: dict[str, float] = {}
            for name, ts in held.items():
                pol = self._lm_policy(lm, run_path / tag)
                recs = run_suite(pol, ts, "react", a.max_steps, a.budget, retrieve_k=a.retrieve_k)
                out[f"{name}_pass_rate"] = summarize(recs)["pass_rate"]
            return out

        untuned = score(student, "untuned")
        tuned_lm, res = train_lora(
            student, rows, t.steps, t.lr, t.batch_size, t.max_length, t.lora_r, self.config.seed
        )
        tuned = score(tuned_lm, "tuned")
        from ennead.core.train import save_adapter

        adapter = save_adapter(res.model, run_path / "adapter")
        path = atomic_write_json(
            run_path / "train.json",
            {
                "untuned": untuned,
                "tuned": tuned,
                "rows": len(rows),
                "first_loss": res.first_loss,
                "final_loss": res.final_loss,
                "steps": res.steps,
            },
        )
        metrics = {f"tuned_{k}": v for k, v in tuned.items()} | {
            f"untuned_{k}": v for k, v in untuned.items()
        }
        return ToolTrainResult(
            run_dir=run_path,
            metrics=metrics,
            untuned=untuned,
            tuned=tuned,
            artifacts={"train": path, "adapter": Path(adapter)},
        )

    # ------------------------------------------------------------------ report, check, demo
    def report(self, run_dir: str | Path) -> RunResult:
        run = Path(run_dir)
        if not (run / "eval.json").is_file():
            raise StageError(f"{run} has no eval.json; run `ennead tools evaluate` first")
        ev = json.loads((run / "eval.json").read_text(encoding="utf-8"))
        rep = Report("Tool learning run", f"{ev['policy']} policy, {ev['agent']} agent")
        rep.table(
            [
                {"split": k, **{m: round(v, 3) for m, v in d.items()}}
                for k, d in ev["by_split"].items()
            ],
            caption="by split",
        )
        rep.table(
            [
                {"kind": k, **{m: round(v, 3) for m, v in d.items()}}
                for k, d in ev["by_kind"].items()
            ],
            caption="by kind",
        )
        names = list(ev["by_split"])
        rep.line_plot(
            "pass-rate",
            {
                "pass rate": (
                    list(range(len(names))),
                    [ev["by_split"][n]["pass_rate"] for n in names],
                )
            },
            xlabel="split: " + ", ".join(f"{i}={n}" for i, n in enumerate(names)),
            ylabel="pass rate",
        )
        md, html = rep.write(run)
        return RunResult(run_dir=run, artifacts={"report_md": md, "report_html": html})

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        return check_inputs(paths, load_tasks, "task file")

    def demo(self, run_dir: str | Path | None = None) -> EvalResult:
        """The rule policy through the configured agent on the held-out tasks."""
        return self.evaluate(run_dir or default_run_path("tools-demo"))
