"""``ennead tour``: measure each paper's claims and write one report (Markdown + HTML).

Each system's spec names ``claims(run, quick) -> ClaimsSection`` (:mod:`ennead.core.claims`): the
claim experiment at the smallest size where the claim shows (``quick``: smoke sizes for tests).
The report opens with one row per claim and its verdict, then one section per system with the
per-seed numbers, tables and plots. Systems with only an older ``demo(run) -> dict`` get a section
and a "not run" row that says so.

Resume: every section is a stage of the tour's run folder (default ``runs/tour``; stages
``quick-<system>`` or ``full-<system>``) and gets its own run folder under ``quick/`` or ``full/``,
so a second tour in the same folder reuses finished sections, and a system's own stages inside an
unfinished one. A section made by other code (another git commit or ennead version) is redone. A
section that raises is reported as "not run" with its error; the others still run.

The foundation section checks the embedded defaults themselves: both assets prepared, SmolLM2
answering a question, MiniLM retrieving a paraphrase.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from ennead.core.claims import Claim, ClaimsSection, slug
from ennead.core.logging import get_logger
from ennead.core.results import RunResult
from ennead.core.runs import RunDir, git_sha

log = get_logger(__name__)
DEFAULT_OUT = Path("runs") / "tour"  # one folder, so a second `ennead tour` reuses sections


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker pools), user + system."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def code_version() -> str:
    """What made a section: the git commit (uncommitted edits not told apart) or the version."""
    from importlib import metadata

    sha = git_sha()
    if sha:
        return sha.removesuffix("-dirty")
    try:
        return metadata.version("ennead")
    except metadata.PackageNotFoundError:
        return "unknown"


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


class TourResult(RunResult):
    """The tour's run folder, report paths, every claim and every section."""

    claims: list[Claim] = Field(default_factory=list)
    sections: list[dict[str, Any]] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list, description="sections that raised")
    quick: bool = False


def _short_paper(paper: str | None) -> str:
    """'Li et al. RAG-DDR: ... ICLR 2025, arXiv:...' -> 'Li et al. RAG-DDR'."""
    if not paper:
        return ""
    return paper.split(":")[0].strip()


def _section_from(
    name: str, spec: Any, value: Any, sub: RunDir, tour: Path, seconds: float
) -> dict[str, Any]:
    """A JSON-able section from a claims function's ``ClaimsSection`` or an older demo dict."""
    anchor = slug(name)
    if isinstance(value, ClaimsSection):
        sec = value.model_dump(mode="json")
        sec["kind"] = "claims"
    elif isinstance(value, list) and all(isinstance(c, Claim) for c in value):
        sec = {
            "kind": "claims",
            "title": name,
            "claims": [c.model_dump(mode="json") for c in value],
        }
    elif isinstance(value, dict):
        sec = dict(value)
        sec["kind"] = "demo"
        sec["claims"] = [
            Claim.not_run(
                "this system has no claims function yet; its demo section shows a smoke run",
                system=name,
                paper=_short_paper(getattr(spec, "paper", None)),
            ).model_dump(mode="json")
        ]
    else:
        raise TypeError(
            f"{name}: the tour function returned {type(value).__name__}; expected a ClaimsSection"
        )
    for claim in sec["claims"]:
        claim["section"] = anchor
        if claim.get("seconds") is None:
            claim["seconds"] = round(seconds, 1)
    sec["seconds"] = round(seconds, 2)
    sec["images"] = [str((sub.path / img).relative_to(tour)) for img in sec.get("images") or []]
    return sec


def run_tour(
    out: str | Path | None = None,
    only: Sequence[str] | None = None,
    *,
    quick: bool = False,
    foundation: bool = True,
) -> TourResult:
    """Run each system's claims (or demo) and write ``report.md`` and ``report.html``.

    ``only``: these systems (no foundation section). ``quick``: smoke sizes. Reusing ``out``
    resumes: finished sections of the same mode are read back, not rerun.
    """
    from ennead.core.registry import load_target
    from ennead.core.systems import get_system, systems

    names = systems.names()
    if only:
        for name in only:
            get_system(name)  # unknown names fail early, with suggestions
        names = [n for n in names if n in set(only)]
    mode = "quick" if quick else "full"
    # No config: runs with other --only / --quick share the folder; stages are keyed by mode.
    run = RunDir.create(out or DEFAULT_OUT, None, system="tour")
    code = code_version()
    jobs: list[tuple[str, Any, Any, bool]] = []  # (name, spec, target, is_claims)
    for name in names:
        try:
            spec = get_system(name)
        except Exception as exc:  # a broken plugin is reported as a failed section
            jobs.append((name, None, _broken(name, exc), False))
            continue
        if spec.claims:
            jobs.append((name, spec, spec.claims, True))
        elif spec.demo:
            jobs.append((name, spec, spec.demo, False))
    if foundation and not only:
        jobs.append(("foundation", None, foundation_demo, False))

    sections: list[dict[str, Any]] = []
    for name, spec, target, is_claims in jobs:
        stage_name = f"{mode}-{name}"
        if run.is_done(stage_name) and run.stage_info(stage_name)["result"].get("code") != code:
            # made by other code: the section and the system's own stages are redone
            log.info("tour: %s was made by other code; running it again", name)
            shutil.rmtree(run.stage_dir(stage_name))
            shutil.rmtree(run.path / mode / name, ignore_errors=True)
        reused = run.is_done(stage_name)
        log.info("tour: %s %s", "reusing" if reused else "running", name)
        sub = RunDir.create(run.path / mode / name, {"system": name, "quick": quick}, system=name)

        def stage(
            folder: Path,
            target: Any = target,
            sub: RunDir = sub,
            name: str = name,
            spec: Any = spec,
            is_claims: bool = is_claims,
        ) -> dict[str, Any]:
            fn = load_target(target) if isinstance(target, str) else target
            t0, c0 = time.perf_counter(), cpu_seconds()
            value = fn(sub, quick) if is_claims else fn(sub)
            section = _section_from(name, spec, value, sub, run.path, time.perf_counter() - t0)
            section["cpu_seconds"] = round(cpu_seconds() - c0, 1)
            section["code"] = code
            return section

        try:
            section = dict(run.run_stage(stage_name, stage))
            sub.finish()
        except Exception as exc:  # one failing section must not hide the others; it is reported
            log.error("tour: %s failed: %s", name, exc)
            error = f"{type(exc).__name__}: {exc}"
            section = {
                "kind": "error",
                "title": name,
                "error": error,
                "traceback": traceback.format_exc(),
                "claims": [
                    Claim.not_run(
                        error,
                        system=name,
                        paper=_short_paper(getattr(spec, "paper", None)),
                        section=slug(name),
                    ).model_dump(mode="json")
                ]
                if name != "foundation"
                else [],
            }
            sub.finish(status="failed")
        if name == "foundation":
            section["claims"] = []
        section["name"] = name
        section["reused"] = reused
        sections.append(section)

    from ennead.core.io import atomic_write_json
    from ennead.core.tour_report import build_report

    claims = [Claim.model_validate(c) for s in sections for c in s.get("claims") or []]
    md, html = build_report(sections, run.path, quick=quick).write(run.path, "report")
    atomic_write_json(run.path / "sections.json", sections)
    failed = [s["name"] for s in sections if s.get("error")]
    verdicts = {v: sum(c.verdict == v for c in claims) for v in ("reproduced", "partly")}
    run.finish(status="failed" if failed else "finished", failed=failed, mode=mode)
    return TourResult(
        run_dir=run.path,
        metrics={"claims": float(len(claims)), **{k: float(v) for k, v in verdicts.items()}},
        artifacts={"markdown": md, "html": html, "sections": run.path / "sections.json"},
        claims=claims,
        sections=sections,
        failed=failed,
        quick=quick,
    )
