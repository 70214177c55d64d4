"""The ConPET facade: build a stream, train every method over it (resumable per task), evaluate
the accuracy matrices and write the report."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ennead.conpet.config import ConPETConfig
from ennead.conpet.stream import Stream, load_stream, save_stream
from ennead.core.checks import check_inputs
from ennead.core.errors import StageError
from ennead.core.eval.report import Report
from ennead.core.io import atomic_write_text
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir, default_run_path

NAMES = {
    "sequential": "sequential LoRA",
    "static": "Static ConPET",
    "dynamic": "Dynamic ConPET",
    "replay": "unlimited replay",
    "full": "full fine-tuning (replay sampler)",
    "joint": "joint (upper bound)",
}


class StreamResult(RunResult):
    tasks: list[dict[str, Any]]


class TrainResult(RunResult):
    methods: dict[str, dict[str, Any]]


class RealResult(RunResult):
    rows: list[dict[str, Any]]
    checks: list[dict[str, Any]]


def _fmt(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) and math.isfinite(v) else v


def method_rows(methods: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, r in methods.items():
        rows.append(
            {
                "method": NAMES.get(name, name),
                "macro %": round(100 * r["macro"], 1),
                "micro %": round(100 * r["micro"], 1),
                "forgetting": _fmt(r["forgetting"]),
                "BWT": _fmt(r["bwt"]),
                "selector %": round(100 * r["selector"], 1) if "selector" in r else "",
                "tunable / total": f"{r['tunable_ratio']:.2%}",
                "fwd T / fwd 2": _fmt(r.get("forward_ratio", "")),
                "time T / time 2": _fmt(r.get("time_ratio", "")),
                "train s": round(sum(c["seconds"] for c in r["cost"]), 1),
            }
        )
    return rows


class ConPET:
    def __init__(self, config: ConPETConfig | None = None):
        self.config = config or ConPETConfig()

    def build_stream(self, stream: str | Path | None = None) -> Stream:
        if stream is not None:
            return load_stream(stream)
        from ennead.conpet.streams import build_stream

        return build_stream(self.config)

    def stream(self, out: str | Path) -> StreamResult:
        """Build the configured stream and save it (JSON) for `train --stream`."""
        s = self.build_stream()
        path = save_stream(s, out)
        n = sum(t["train"] + t["valid"] + t["test"] for t in s.summary())
        return StreamResult(
            run_dir=path.parent,
            metrics={"tasks": float(len(s.tasks)), "labels": float(len(s.labels)), "examples": n},
            artifacts={"stream": path},
            tasks=s.summary(),
        )

    def train(
        self, run_dir: str | Path | None = None, stream: str | Path | None = None
    ) -> TrainResult:
        """Every configured method over the stream; a killed run resumes at the next task."""
        from ennead.conpet.harness import run_all

        cfg = self.config
        run = RunDir.create(
            run_dir or default_run_path("conpet"), cfg, seed=cfg.seed, system="conpet"
        )
        if cfg.train.launch:
            out = _launched(run, cfg, stream)
        else:
            out = run_all(cfg, self.build_stream(stream), run)
        methods = out["methods"]
        run.finish(summary={m: r["macro"] for m, r in methods.items()})
        metrics = {f"{m}_macro": r["macro"] for m, r in methods.items()}
        if "dynamic" in methods:
            metrics["selector"] = methods["dynamic"]["selector"]
        return TrainResult(
            run_dir=run.path,
            metrics=metrics,
            artifacts={"results": run.path / "results.json"},
            methods=methods,
        )

    def evaluate(self, run_dir: str | Path) -> TrainResult:
        """The metrics of a trained run (accuracy matrix, macro/micro, forgetting, BWT, cost)."""
        run = Path(run_dir)
        path = run / "results.json"
        if not path.is_file():
            raise StageError(f"{run} has no results.json; run `ennead conpet train` first")
        methods = json.loads(path.read_text(encoding="utf-8"))["methods"]
        table = atomic_write_text(run / "metrics.md", _markdown(method_rows(methods)))
        return TrainResult(
            run_dir=run,
            metrics={f"{m}_macro": r["macro"] for m, r in methods.items()},
            artifacts={"results": path, "table": table},
            methods=methods,
        )

    def report(self, run_dir: str | Path) -> RunResult:
        """Markdown + HTML: the metrics table, accuracy per task and a heat map of R per method."""
        run = Path(run_dir)
        res = self.evaluate(run)
        rep = build_report(res.methods, f"ConPET run {run}")
        md, html = rep.write(run)
        return RunResult(run_dir=run, artifacts={"report_md": md, "report_html": html})

    def real(self, out: str | Path | None = None, seeds: list[int] | None = None) -> RealResult:
        """Every configured method on a real stream (e.g. the ``clothing`` preset) for each of
        ``claim.seeds``: per-seed macro accuracy, mean and 95% interval, the paper's +5 check."""
        from ennead.conpet.real import run_real

        folder = Path(out or default_run_path("conpet-real"))
        summary = run_real(self.config, folder, seeds)
        return RealResult(
            run_dir=folder,
            metrics={},
            artifacts={"json": folder / "real.json", "table": folder / "real.md"},
            rows=summary["rows"],
            checks=summary["checks"],
        )

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        return check_inputs(paths, load_stream, "saved stream (JSON)")

    def demo(self, run_dir: str | Path | None = None) -> TrainResult:
        """The controlled stream with every method, then the report (`ennead conpet demo`)."""
        run = Path(run_dir or default_run_path("conpet-demo"))
        res = self.train(run)
        self.report(run)
        return res


def _launched(run: RunDir, cfg: ConPETConfig, stream: str | Path | None) -> dict[str, Any]:
    """Train under ``accelerate launch`` (``train.launch``); the workers fill the run folder."""
    from ennead.core.train.launcher import launch

    args = ["--run", str(run.path)] + (["--stream", str(stream)] if stream is not None else [])
    assert cfg.train.launch is not None
    proc = launch("ennead.conpet.launch", args, cfg.train.launch, cfg.train.processes)
    log_path = atomic_write_text(run.path / "launch.log", proc.stdout + proc.stderr)
    results = run.path / "results.json"
    if proc.returncode != 0 or not results.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise StageError(
            f"accelerate launch ({cfg.train.launch}) exited with {proc.returncode}; "
            f"output in {log_path}:\n{tail}"
        )
    data: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
    return data


def _markdown(rows: list[dict[str, Any]]) -> str:
    from ennead.core.eval.report import markdown_table

    return markdown_table(rows) + "\n"


def heatmap(R: list[list[float]], title: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    data = np.array(R, dtype=float) * 100
    fig, ax = plt.subplots(figsize=(3.6, 3.0))
    im = ax.imshow(data, vmin=0, vmax=100, cmap="viridis")
    T = len(R)
    for i in range(T):
        for j in range(T):
            if not math.isnan(data[i, j]):
                ax.text(j, i, f"{data[i, j]:.0f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_xticks(range(T), [str(j + 1) for j in range(T)])
    ax.set_yticks(range(T), [str(i + 1) for i in range(T)])
    ax.set_xlabel("test task j")
    ax.set_ylabel("after task i")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def build_report(methods: dict[str, dict[str, Any]], subtitle: str) -> Report:
    rep = Report("ConPET: continual parameter-efficient tuning", subtitle)
    rep.section(
        "Methods after the last task",
        "macro = mean of per-task test accuracies over all tasks seen (the paper's accuracy); "
        "micro = over all test examples; forgetting and BWT from the accuracy matrix R; "
        "fwd T / fwd 2 = examples forwarded while training the last task over task 2.",
    )
    rep.table(method_rows(methods))
    series = {
        NAMES.get(m, m): (r["tasks"], [100 * v for v in r["macro_per_task"]])
        for m, r in methods.items()
    }
    rep.line_plot(
        "accuracy-per-task",
        series,
        xlabel="tasks learned",
        ylabel="macro accuracy (%)",
        caption="macro accuracy over the tasks seen, after each task",
    )
    rep.section("Accuracy matrices R[i, j]")
    for m, r in methods.items():
        if m == "joint":
            continue
        rep.figure(heatmap(r["R"], NAMES.get(m, m)), f"r-{m}", f"{NAMES.get(m, m)}: R (%)")
    return rep
