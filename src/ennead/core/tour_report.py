"""Render the tour's sections into one Markdown and one HTML report (via core.eval.report).

The report opens with the claims table (one row per paper claim, its verdict and a link to the
section that backs it), then one section per system: its claims with every seed, its tables and
its plots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ennead.core.claims import VERDICTS, Claim, slug
from ennead.core.eval.report import Link, Report

# the opening table: the verdict early, per-seed values in each section's detail table
TOUR_COLUMNS = [
    "system",
    "paper",
    "claim",
    "verdict",
    "effect [95% CI]",
    "needs",
    "comparison",
    "measured here",
    "seeds",
    "seconds",
]
DETAIL_COLUMNS = [
    "claim",
    "comparison",
    "effect [95% CI]",
    "interval",
    "per seed",
    "needs",
    "verdict",
    "paper's number",
    "note",
]
VERDICT_RULE = (
    "Verdicts: reproduced = the mean effect meets the size the claim needs here and the 95% "
    "interval clears the bar (its lower bound, or its upper bound where lower is better); "
    "partly = right direction but smaller than claimed, or the interval crosses the bar; "
    "not reproduced = wrong direction, or the interval rules out the claimed size without "
    "clearing the bar; not run = the experiment failed or does not exist yet (the error says "
    "which). Sizes and bars were fixed before the runs."
)


def parse_markdown_table(text: str) -> list[dict[str, str]] | None:
    """Rows of a simple pipe table (header, separator, rows); None if ``text`` is not one."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) < 2 or not all(ln.startswith("|") for ln in lines):
        return None
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    header, sep, body = cells[0], cells[1], cells[2:]
    if not all(set(c) <= set(":- ") and c for c in sep):
        return None
    return [dict(zip(header, row)) for row in body]


def section_claims(sections: list[dict[str, Any]]) -> list[Claim]:
    return [Claim.model_validate(c) for s in sections for c in s.get("claims") or []]


def claims_rows(claims: list[Claim]) -> list[dict[str, Any]]:
    """Rows of the claims table; the system cell links to its section."""
    rows = []
    for c in claims:
        row = c.row()
        row["system"] = Link(c.system, f"#{c.section or slug(c.system)}")
        rows.append(row)
    return rows


def _detail_rows(claims: list[Claim]) -> list[dict[str, Any]]:
    rows = []
    for c in claims:
        row = c.row()
        row["interval"] = c.interval_method
        row["paper's number"] = c.paper_value
        row["note"] = c.note or c.error or ""
        rows.append(row)
    return rows


def _counts(claims: list[Claim]) -> str:
    parts = [f"{sum(c.verdict == v for c in claims)} {v}" for v in VERDICTS]
    return ", ".join(parts)


def build_report(sections: list[dict[str, Any]], run_path: Path, quick: bool = False) -> Report:
    claims = section_claims(sections)
    failed = [s for s in sections if s.get("error")]
    seconds = sum(float(s.get("seconds") or 0) for s in sections if not s.get("reused"))
    size = (
        "quick (smoke sizes: the verdicts are not meaningful)"
        if quick
        else "claim sizes (the CI-gate configurations)"
    )
    report = Report(
        "ennead tour: what each paper claims, measured here",
        f"{len(claims)} claim(s): {_counts(claims)}. {len(sections)} section(s), "
        f"{len(failed)} failed; sizes: {size}; {seconds:.0f} s of new work in this tour.",
    )
    report.heading("Claims", anchor="claims")
    report.paragraph(VERDICT_RULE)
    if claims:
        columns = list(TOUR_COLUMNS)
        if any(c.error for c in claims):
            columns.append("error")
        report.table(claims_rows(claims), columns=columns, caption="paper claims")
    else:
        report.paragraph("No system reported a claim.")
    for sec in sections:
        report.heading(sec.get("title") or sec["name"], anchor=slug(sec["name"]))
        if sec.get("reused"):
            report.paragraph(
                "Reused from an earlier tour in this run folder (delete "
                f"stages/{'quick' if quick else 'full'}-{sec['name']} to rerun it)."
            )
        if sec.get("error"):
            report.paragraph(f"NOT RUN: {sec['error']}")
            report.code(sec.get("traceback", ""))
            continue
        if sec.get("summary"):
            report.paragraph(sec["summary"])
        own = [Claim.model_validate(c) for c in sec.get("claims") or []]
        if own and sec.get("kind") == "claims":
            report.table(_detail_rows(own), columns=DETAIL_COLUMNS, caption="claims, every seed")
        _demo_results(report, sec)
        for table in sec.get("tables") or []:
            if isinstance(table, dict):
                report.table(table["rows"], table.get("columns"), table.get("caption") or None)
                continue
            parsed = parse_markdown_table(table)
            if parsed:
                report.table(parsed)
            else:
                report.code(table)
        for img in sec.get("images") or []:
            path = run_path / img
            if path.is_file():
                report.image(path, caption=Path(img).stem, link=img)
        if sec.get("seconds") is not None:
            cpu = sec.get("cpu_seconds")
            report.paragraph(
                f"Wall time: {float(sec['seconds']):.1f} s"
                + (
                    f"; CPU time: {float(cpu):.1f} s (this process and its workers)."
                    if cpu
                    else "."
                )
            )
    return report


def _demo_results(report: Report, sec: dict[str, Any]) -> None:
    """An older demo section's ``tasks`` against its ``baselines``."""
    base = sec.get("baselines") or {}
    rows = [
        {
            "task": task,
            "metric": metric,
            "value": value,
            "baseline": (base.get(task) or {}).get(metric),
        }
        for task, metrics in (sec.get("tasks") or {}).items()
        for metric, value in metrics.items()
    ]
    if rows:
        report.table(rows, columns=["task", "metric", "value", "baseline"], caption="results")


def render_markdown(sections: list[dict[str, Any]], run_path: Path) -> str:
    return build_report(sections, run_path).to_markdown()


def render_html(sections: list[dict[str, Any]], run_path: Path) -> str:
    return build_report(sections, run_path).to_html()
