"""Render the tour's sections into one Markdown and one HTML report (via core.eval.report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ennead.core.eval.aggregate import aggregate, tree_from_scores
from ennead.core.eval.report import Report


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


def normalised_tree(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """toolkit -> system -> task -> metric, only leaves that have the system's own baseline."""
    tree: dict[str, Any] = {}
    for sec in sections:
        if sec.get("error"):
            continue
        hib = sec.get("higher_is_better") or {}
        base = sec.get("baselines") or {}
        tasks: dict[str, Any] = {}
        for task, metrics in (sec.get("tasks") or {}).items():
            leaves = {}
            for metric, value in metrics.items():
                b = (base.get(task) or {}).get(metric)
                if b is None or not b:
                    continue
                leaves[metric] = {
                    "score": float(value),
                    "baseline": float(b),
                    "higher_is_better": bool(hib.get(metric, True)),
                }
            if leaves:
                tasks[task] = leaves
        if tasks:
            tree[sec["name"]] = tasks
    return tree


def build_report(sections: list[dict[str, Any]], run_path: Path) -> Report:
    ok = [s for s in sections if not s.get("error")]
    failed = [s for s in sections if s.get("error")]
    report = Report(
        "ennead tour",
        f"{len(ok)} section(s) ran, {len(failed)} failed. Each system's demo runs on its tiny or "
        "embedded configuration.",
    )
    nested = normalised_tree(sections)
    report.heading("Across the toolkit")
    if nested:
        root, scores = tree_from_scores(nested, name="ennead")
        result = aggregate(root, scores, rule="mean", missing="skip")
        report.paragraph(
            "Each score is normalised by that system's own baseline (100 = baseline; for "
            "lower-is-better metrics 100 x baseline / value) and averaged system -> task -> metric."
        )
        report.aggregation(result, caption="normalised scores")
    else:
        report.paragraph("No system with a baseline ran yet; raw results are below.")
    summary_rows = [
        {
            "section": s["name"],
            "title": s.get("title", s["name"]),
            "status": "failed" if s.get("error") else "ok",
            "seconds": s.get("seconds"),
        }
        for s in sections
    ]
    report.table(summary_rows, caption="sections")
    for sec in sections:
        report.heading(sec.get("title") or sec["name"])
        if sec.get("error"):
            report.paragraph(f"FAILED: {sec['error']}")
            report.code(sec.get("traceback", ""))
            continue
        if sec.get("summary"):
            report.paragraph(sec["summary"])
        base = sec.get("baselines") or {}
        rows = []
        for task, metrics in (sec.get("tasks") or {}).items():
            for metric, value in metrics.items():
                rows.append(
                    {
                        "task": task,
                        "metric": metric,
                        "value": value,
                        "baseline": (base.get(task) or {}).get(metric),
                    }
                )
        if rows:
            report.table(rows, columns=["task", "metric", "value", "baseline"], caption="results")
        for text in sec.get("tables") or []:
            parsed = parse_markdown_table(text)
            if parsed:
                report.table(parsed)
            else:
                report.code(text)
        for img in sec.get("images") or []:
            path = run_path / img
            if path.is_file():
                report.image(path, caption=Path(img).stem, link=img)
    return report


def render_markdown(sections: list[dict[str, Any]], run_path: Path) -> str:
    return build_report(sections, run_path).to_markdown()


def render_html(sections: list[dict[str, Any]], run_path: Path) -> str:
    return build_report(sections, run_path).to_html()
