"""``ennead tour``: run every system's demo and write one report (Markdown + HTML).

Each system's ``demo(run) -> dict`` returns a *section*:

``title``, ``summary`` (markdown), ``tasks`` ({task: {metric: value}}), ``baselines`` (same shape:
the system's own baseline, used to normalise as 100 x value / baseline), ``higher_is_better``
({metric: bool}), ``images`` (paths relative to the demo's run folder) and ``tables`` (markdown).

The foundation section checks the embedded defaults themselves: both assets prepared, SmolLM2
answering a question, MiniLM retrieving a paraphrase.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.core.logging import get_logger
from ennead.core.runs import RunDir, default_run_path

log = get_logger(__name__)

FOUNDATION_QUESTIONS = [
    ("What is the capital of France?", "paris"),
    ("What is the largest planet in the solar system?", "jupiter"),
    ("How many days are in a week? Answer with a number.", "7"),
]


def foundation_demo(run: RunDir) -> dict[str, Any]:
    """Check the embedded defaults: the LM answers, the embedder retrieves."""
    from ennead.core import assets
    from ennead.core.backends import load_backend
    from ennead.core.backends.base import SamplingParams

    rows = assets.asset_status(prepare=True)
    ready = sum(1 for r in rows if r["prepared"])
    t0 = time.perf_counter()
    lm = load_backend("smollm2")
    load_s = time.perf_counter() - t0
    prompts = [[{"role": "user", "content": q}] for q, _ in FOUNDATION_QUESTIONS]
    t0 = time.perf_counter()
    outs = lm.generate(prompts, SamplingParams(max_new_tokens=24))
    gen_s = time.perf_counter() - t0
    answers = [o[0].text.strip() for o in outs]
    correct = [gold in ans.lower() for (_, gold), ans in zip(FOUNDATION_QUESTIONS, answers)]

    from ennead.core.retrieval.dense import DenseIndex
    from ennead.core.retrieval.embedders import get_embedder

    docs = [
        {"id": "d1", "text": "Paris is the capital and largest city of France."},
        {"id": "d2", "text": "The mitochondrion produces most of the energy of a cell."},
        {"id": "d3", "text": "Jupiter is the biggest planet orbiting the Sun."},
        {"id": "d4", "text": "A sonnet is a poem of fourteen lines."},
    ]
    queries = [
        ("Which city is France's capital?", "d1"),
        ("What is the powerhouse of the cell?", "d2"),
        ("largest planet of the solar system", "d3"),
        ("a poem with 14 lines", "d4"),
    ]
    index = DenseIndex.build(docs, get_embedder("minilm"))
    hits = [index.search(q, k=1)[0].id == gold for q, gold in queries]

    table = "| question | SmolLM2 answer | correct |\n|---|---|---|\n" + "".join(
        f"| {q} | {a.replace('|', '/')} | {'yes' if c else 'no'} |\n"
        for (q, _), a, c in zip(FOUNDATION_QUESTIONS, answers, correct)
    )
    return {
        "title": "Foundation: embedded defaults",
        "summary": (
            f"{ready}/{len(rows)} embedded assets prepared. SmolLM2-135M-Instruct loaded from the "
            f"cache in {load_s:.2f} s and answered {len(prompts)} questions in one batch in "
            f"{gen_s:.2f} s; "
            "MiniLM dense retrieval found the paraphrased passage for "
            f"{sum(hits)}/{len(hits)} queries."
        ),
        "tasks": {
            "assets": {"prepared": ready / max(len(rows), 1)},
            "qa": {"substring_accuracy": sum(correct) / len(correct)},
            "retrieval": {"hit@1": sum(hits) / len(hits)},
        },
        "baselines": {},
        "higher_is_better": {"prepared": True, "substring_accuracy": True, "hit@1": True},
        "images": [],
        "tables": [table],
    }


def _broken(name: str, exc: Exception) -> Any:
    def demo(run: RunDir) -> dict[str, Any]:
        raise RuntimeError(f"system {name!r} cannot be loaded: {type(exc).__name__}: {exc}")

    return demo


def run_tour(
    out: str | Path | None = None, only: Sequence[str] | None = None, foundation: bool = True
) -> dict[str, Any]:
    """Run the demos and write ``report.md`` and ``report.html`` into the tour's run folder."""
    from ennead.core.registry import load_target
    from ennead.core.systems import get_system, systems

    names = systems.names()
    if only:
        for name in only:
            get_system(name)  # unknown names fail early, with suggestions
        names = [n for n in names if n in set(only)]
    run = RunDir.create(out or default_run_path("tour"), {"systems": names}, system="tour")
    sections: list[dict[str, Any]] = []
    jobs: list[tuple[str, Any]] = []
    if foundation and not only:
        jobs.append(("foundation", foundation_demo))
    for name in names:
        try:
            spec = get_system(name)
        except Exception as exc:  # a broken plugin is reported as a failed section
            jobs.append((name, _broken(name, exc)))
            continue
        if spec.demo:
            jobs.append((name, spec.demo))
    for name, demo in jobs:
        log.info("tour: running %s", name)
        sub = RunDir.create(run.path / "systems" / name, {"system": name}, system=name)

        def stage(folder: Path, demo: Any = demo, sub: RunDir = sub) -> dict[str, Any]:
            fn = load_target(demo) if isinstance(demo, str) else demo
            t0 = time.perf_counter()
            result = dict(fn(sub))
            result["seconds"] = round(time.perf_counter() - t0, 2)
            result["images"] = [
                str((sub.path / img).relative_to(run.path)) for img in result.get("images", [])
            ]
            return result

        try:
            section = dict(run.run_stage(f"demo-{name}", stage))
            sub.finish()
        except Exception as exc:  # one failing demo must not hide the others; it is reported
            log.error("tour: %s failed: %s", name, exc)
            section = {
                "title": name,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
            sub.finish(status="failed")
        section["name"] = name
        sections.append(section)
    from ennead.core.io import atomic_write_json
    from ennead.core.tour_report import build_report

    md, html = build_report(sections, run.path).write(run.path, "report")
    atomic_write_json(run.path / "sections.json", sections)
    failed = [s["name"] for s in sections if s.get("error")]
    run.finish(status="failed" if failed else "finished", failed=failed)
    return {
        "run": str(run.path),
        "markdown": str(md),
        "html": str(html),
        "failed": failed,
        "sections": sections,
    }
