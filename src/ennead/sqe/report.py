"""A self-contained HTML report of an ``optimize`` or ``evaluate`` run folder (images inlined)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from ennead.core.errors import StageError
from ennead.core.io import atomic_write_text

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}img{max-width:100%}"
)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c, '')))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}"></p>'


def write_report(run_path: str | Path) -> Path:
    """Render ``summary.json`` and the PNGs of a run folder into ``report.html``."""
    run_path = Path(run_path)
    summary_path = run_path / "summary.json"
    if not summary_path.exists():
        raise StageError(f"{run_path} has no summary.json; run 'ennead sqe optimize' or 'evaluate'")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>SQE report</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>SQE {html.escape(str(summary.get('verb', 'run')))}: "
        f"{html.escape(run_path.name)}</h1>",
        "<p>SQE scores tracker output from its own appearance features, without ground truth "
        "(Huang et al., CVPR 2020). Ground-truth columns, where present, are a check only.</p>",
    ]
    if summary.get("aggregate"):
        parts.append("<h2>Summary</h2>" + _table([summary["aggregate"]]))
    parts.append("<h2>Per sequence</h2>" + _table(summary.get("sequences", [])))
    for img in sorted(run_path.glob("artifacts/*.png")):
        parts.append(f"<h3>{html.escape(img.stem)}</h3>" + _img(img))
    parts.append("</body></html>")
    return atomic_write_text(run_path / "report.html", "\n".join(parts))
