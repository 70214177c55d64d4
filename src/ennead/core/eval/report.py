"""Render results as Markdown and as one self-contained HTML page.

The HTML page has no external assets (inline CSS, images embedded as data URIs), no scripts,
and every piece of text is escaped, so names coming from data cannot inject markup.

>>> from ennead.core.eval.aggregate import Node, aggregate
>>> result = aggregate(Node.from_dict({"name": "all", "children": ["a", "b"]}), {"a": 1, "b": 0})
>>> report = Report("Demo").paragraph("Two leaves.").aggregation(result)
>>> "| all/a | 1.00 |" in report.to_markdown()
True
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError
from ennead.core.eval.aggregate import AggregationResult, NodeResult
from ennead.core.io import atomic_write_text

_MEDIA = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
_AGG_COLUMNS = ("node", "score", "raw", "baseline", "weight", "rule")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.3rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{font-size:1.1rem}
.subtitle{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.inner td{font-weight:600}caption{caption-side:top;text-align:left;color:#555;
padding-bottom:.3rem}
.bar{display:inline-block;height:.6rem;background:#5b8def;border-radius:2px;
margin-right:.4rem;vertical-align:middle}
.note{color:#8a5a00;background:#fff6e0;padding:.4rem .6rem;border-radius:4px}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}figure{margin:1rem 0}
figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9rem}
"""


@dataclass(frozen=True)
class Link:
    """A table cell that links: ``[text](href)`` in Markdown, ``<a href>`` in HTML."""

    text: str
    href: str


def fmt(value: Any, digits: int = 2) -> str:
    """Cell text: floats to ``digits`` decimals, None as an empty cell, bools as yes/no."""
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def md_cell(text: str) -> str:
    """Escape a Markdown table cell: pipes, line breaks and HTML-significant characters."""
    text = html.escape(text, quote=False).replace("|", "\\|")
    return " ".join(text.split())


def _columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def markdown_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, digits: int = 2
) -> str:
    """A GitHub-style Markdown table; ``columns`` defaults to every key in first-seen order."""
    cols = _columns(rows, columns)
    if not cols:
        return ""
    out = ["| " + " | ".join(md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        out.append("| " + " | ".join(_md_value(row.get(c), digits) for c in cols) + " |")
    return "\n".join(out) + "\n"


def _md_value(value: Any, digits: int) -> str:
    if isinstance(value, Link):
        return f"[{md_cell(value.text)}]({value.href.replace(' ', '%20').replace(')', '%29')})"
    return md_cell(fmt(value, digits))


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def html_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    digits: int = 2,
    caption: str | None = None,
) -> str:
    cols = _columns(rows, columns)
    esc = html.escape
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = []
        for c in cols:
            value = row.get(c)
            cls = ' class="num"' if _is_num(value) else ""
            text = esc(fmt(value, digits))
            if isinstance(value, Link):
                text = f'<a href="{esc(value.href)}">{text}</a>'
            cells.append(f"<td{cls}>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def _agg_rows(result: AggregationResult) -> list[NodeResult]:
    return list(result.walk())


def _raw_shown(node: NodeResult) -> float | None:
    """Raw values only where they differ from the score (i.e. a baseline applied below)."""
    if node.raw is None or math.isclose(node.raw, node.score, rel_tol=1e-12, abs_tol=1e-12):
        return None
    return node.raw


def aggregation_markdown(result: AggregationResult, digits: int = 2) -> str:
    """The drill-down as one Markdown table (one row per node, full paths)."""
    rows = [
        {
            "node": n.path,
            "score": n.score,
            "raw": _raw_shown(n),
            "baseline": n.baseline,
            "weight": n.weight,
            "rule": n.rule,
        }
        for n in _agg_rows(result)
    ]
    text = markdown_table(rows, _AGG_COLUMNS, digits)
    return text + _agg_notes(result, markdown=True)


def _agg_notes(result: AggregationResult, markdown: bool) -> str:
    notes = []
    if result.missing:
        notes.append("incomplete: no score for " + ", ".join(result.missing))
    if result.pruned:
        notes.append("left out (nothing scored below): " + ", ".join(result.pruned))
    if not notes:
        return ""
    if markdown:
        return "".join(f"\n> {md_cell(n)}\n" for n in notes)
    return "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)


def aggregation_html(result: AggregationResult, digits: int = 2, caption: str | None = None) -> str:
    """The drill-down as an indented HTML table with a bar per score."""
    esc = html.escape
    nodes = _agg_rows(result)
    top = max((abs(n.score) for n in nodes), default=0.0) or 1.0
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{c}</th>" for c in _AGG_COLUMNS) + "</tr></thead>")
    parts.append("<tbody>")
    for n in nodes:
        width = max(0.0, min(100.0, 100.0 * n.score / top)) if math.isfinite(n.score) else 0.0
        bar = f'<span class="bar" style="width:{width * 1.2:.0f}px"></span>'
        raw = _raw_shown(n)
        pad = f"padding-left:{0.6 + 1.2 * n.depth:.1f}rem"
        parts.append(
            f'<tr class="{"leaf" if n.is_leaf else "inner"}" title="{esc(n.path)}">'
            f'<td style="{pad}">{esc(n.name)}</td>'
            f'<td class="num">{bar}{esc(fmt(n.score, digits))}</td>'
            f'<td class="num">{esc(fmt(raw, digits))}</td>'
            f'<td class="num">{esc(fmt(n.baseline, digits))}</td>'
            f'<td class="num">{esc(fmt(n.weight, digits))}</td>'
            f"<td>{esc(fmt(n.rule))}</td></tr>"
        )
    parts.append("</tbody></table>")
    return "\n".join(parts) + _agg_notes(result, markdown=False)


class Report:
    """A document of headings, paragraphs, tables, aggregations and images.

    Build it once, then render with :meth:`to_markdown` and :meth:`to_html`, or :meth:`write`
    both. Methods return the report so calls chain.
    """

    def __init__(self, title: str, subtitle: str | None = None, digits: int = 2):
        self.title, self.subtitle, self.digits = title, subtitle, digits
        self._blocks: list[tuple[str, dict[str, Any]]] = []

    def heading(self, text: str, level: int = 2, anchor: str | None = None) -> Report:
        """A heading; ``anchor`` gives it an id that ``Link(..., "#anchor")`` cells point to."""
        if not 2 <= level <= 6:
            raise ValueError(f"heading level must be 2..6 (1 is the title), got {level}")
        self._blocks.append(("heading", {"text": text, "level": level, "anchor": anchor}))
        return self

    def paragraph(self, text: str) -> Report:
        """Plain text; blank lines separate paragraphs (Markdown markup is kept as is there)."""
        self._blocks.append(("paragraph", {"text": text}))
        return self

    def code(self, text: str) -> Report:
        self._blocks.append(("code", {"text": text}))
        return self

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        caption: str | None = None,
    ) -> Report:
        self._blocks.append(("table", {"rows": list(rows), "columns": columns, "caption": caption}))
        return self

    def aggregation(self, result: AggregationResult, caption: str | None = None) -> Report:
        self._blocks.append(("aggregation", {"result": result, "caption": caption}))
        return self

    def image(
        self, path: str | Path, caption: str | None = None, link: str | None = None
    ) -> Report:
        """An image file: embedded in the HTML; in Markdown linked as ``link`` (default: path)."""
        path = Path(path)
        media = _MEDIA.get(path.suffix.lower())
        if media is None:
            raise DataError(f"unsupported image type; use one of {', '.join(_MEDIA)}", path)
        if not path.is_file():
            raise DataError("image not found", path)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        self._blocks.append(
            (
                "image",
                {
                    "uri": f"data:{media};base64,{data}",
                    "link": link or str(path),
                    "caption": caption or path.stem,
                },
            )
        )
        return self

    # -- rendering ----------------------------------------------------------------------------
    def to_markdown(self) -> str:
        out = [f"# {self.title}\n"]
        if self.subtitle:
            out.append(f"_{self.subtitle}_\n")
        for kind, b in self._blocks:
            if kind == "heading":
                if b.get("anchor"):
                    out.append(f'<a id="{html.escape(b["anchor"])}"></a>\n')
                out.append(f"{'#' * b['level']} {b['text']}\n")
            elif kind == "paragraph":
                out.append(b["text"].strip() + "\n")
            elif kind == "code":
                out.append("```\n" + b["text"].rstrip("\n") + "\n```\n")
            elif kind == "table":
                caption = f"**{md_cell(b['caption'])}**\n\n" if b["caption"] else ""
                out.append(caption + markdown_table(b["rows"], b["columns"], self.digits))
            elif kind == "aggregation":
                caption = f"**{md_cell(b['caption'])}**\n\n" if b["caption"] else ""
                out.append(caption + aggregation_markdown(b["result"], self.digits))
            elif kind == "image":
                out.append(f"![{md_cell(b['caption'])}]({b['link']})\n")
        return "\n".join(out)

    def to_html(self) -> str:
        esc = html.escape
        body = [f"<h1>{esc(self.title)}</h1>"]
        if self.subtitle:
            body.append(f'<p class="subtitle">{esc(self.subtitle)}</p>')
        for kind, b in self._blocks:
            if kind == "heading":
                ident = f' id="{esc(b["anchor"])}"' if b.get("anchor") else ""
                body.append(f"<h{b['level']}{ident}>{esc(b['text'])}</h{b['level']}>")
            elif kind == "paragraph":
                for para in b["text"].strip().split("\n\n"):
                    body.append(f"<p>{esc(para.strip())}</p>")
            elif kind == "code":
                body.append(f"<pre>{esc(b['text'])}</pre>")
            elif kind == "table":
                body.append(html_table(b["rows"], b["columns"], self.digits, b["caption"]))
            elif kind == "aggregation":
                body.append(aggregation_html(b["result"], self.digits, b["caption"]))
            elif kind == "image":
                body.append(
                    f'<figure><img src="{b["uri"]}" alt="{esc(b["caption"])}">'
                    f"<figcaption>{esc(b['caption'])}</figcaption></figure>"
                )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    def write(self, folder: str | Path, stem: str = "report") -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``folder`` (each atomically)."""
        folder = Path(folder)
        md = atomic_write_text(folder / f"{stem}.md", self.to_markdown())
        page = atomic_write_text(folder / f"{stem}.html", self.to_html())
        return md, page


def render_markdown(
    obj: AggregationResult | Sequence[Mapping[str, Any]],
    title: str = "Results",
    columns: Sequence[str] | None = None,
) -> str:
    """One aggregation result or one table of rows as a Markdown page."""
    return _single(obj, title, columns).to_markdown()


def render_html(
    obj: AggregationResult | Sequence[Mapping[str, Any]],
    title: str = "Results",
    columns: Sequence[str] | None = None,
) -> str:
    """One aggregation result or one table of rows as a self-contained HTML page."""
    return _single(obj, title, columns).to_html()


def _single(obj: Any, title: str, columns: Sequence[str] | None) -> Report:
    report = Report(title)
    if isinstance(obj, AggregationResult):
        return report.aggregation(obj)
    if isinstance(obj, Sequence) and all(isinstance(r, Mapping) for r in obj):
        return report.table(obj, columns)
    raise TypeError(f"expected an AggregationResult or a list of row mappings, got {type(obj)}")
