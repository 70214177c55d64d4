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
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError
from ennead.core.eval.aggregate import AggregationResult, NodeResult
from ennead.core.imports import require
from ennead.core.io import atomic_write_bytes, atomic_write_text

_MEDIA = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
_AGG_COLUMNS = ("node", "score", "raw", "baseline", "weight", "rule")
FIGURES = "figures"
# the claims table's columns, in order, as ``core.claims.Claim.row()`` names them
CLAIM_COLUMNS = (
    "system",
    "paper",
    "claim",
    "measured here",
    "comparison",
    "effect [95% CI]",
    "needs",
    "verdict",
    "per seed",
    "seconds",
)

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
.scroll{overflow-x:auto}td.verdict{font-weight:600;white-space:nowrap}
td.v-reproduced{background:#e3f5e1;color:#1d5e1a}td.v-partly{background:#fff3cd;color:#7a5a00}
td.v-not-reproduced{background:#fde2e1;color:#8c1d18}td.v-not-run{background:#eee;color:#555}
"""
# a verdict cell is coloured, so the claims table can be scanned down its verdict column
_VERDICT_CLASSES = {"reproduced", "partly", "not reproduced", "not run"}


@dataclass(frozen=True)
class Link:
    """A table cell that links: ``[text](href)`` in Markdown, ``<a href>`` in HTML."""

    text: str
    href: str


def format_interval(
    estimate: float,
    low: float,
    high: float,
    *,
    digits: int = 2,
    scale: float = 1.0,
    sign: bool = True,
) -> str:
    """``"+5.2 [2.1, 8.3]"``: estimate (signed when ``sign``) and bounds, all times ``scale``.

    >>> format_interval(0.052, 0.021, 0.083, digits=1, scale=100)
    '+5.2 [2.1, 8.3]'
    """
    est = estimate * scale
    head = f"{est:+.{digits}f}" if sign else f"{est:.{digits}f}"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{head} [n/a]"
    return f"{head} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"


def _is_interval(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("estimate", "low", "high"))


def fmt(value: Any, digits: int = 2) -> str:
    """Cell text: floats to ``digits`` decimals, None as an empty cell, bools as yes/no,
    intervals (``estimate``, ``low``, ``high``: a stats ``Interval``) as ``+5.20 [2.10, 8.30]``.
    """
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    if _is_interval(value):
        return format_interval(value.estimate, value.low, value.high, digits=digits)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _plain(value: Any) -> Any:
    """Scalars as they are; lists and dicts as compact JSON text."""
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, default=str)
    return value


def _triple(value: Any) -> tuple[float, float, float]:
    if _is_interval(value):
        return float(value.estimate), float(value.low), float(value.high)
    est, low, high = value
    return float(est), float(low), float(high)


def table_rows(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]], index: str = "name"
) -> list[dict[str, Any]]:
    """Table rows from a list of dicts, or from ``{row name: {column: value}}``.

    >>> table_rows({"vanilla": {"acc": 0.3}, "ddr": {"acc": 0.9}}, index="method")
    [{'method': 'vanilla', 'acc': 0.3}, {'method': 'ddr', 'acc': 0.9}]
    """
    if isinstance(rows, Mapping):
        out = []
        for name, row in rows.items():
            if not isinstance(row, Mapping):
                raise DataError(f"table row {name!r}: expected a mapping of columns, got {row!r}")
            out.append({index: name, **row})
        return out
    return [dict(r) for r in rows]


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
    parts = ['<div class="scroll"><table>']  # a wide table scrolls inside the page's width
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = []
        for c in cols:
            value = row.get(c)
            cls = ' class="num"' if _is_num(value) else ""
            if c == "verdict" and value in _VERDICT_CLASSES:
                cls = f' class="verdict v-{str(value).replace(" ", "-")}"'
            text = esc(fmt(value, digits))
            if isinstance(value, Link):
                text = f'<a href="{esc(value.href)}">{text}</a>'
            cells.append(f"<td{cls}>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div>")
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
    parts = ['<div class="scroll"><table>']  # a wide table scrolls inside the page's width
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
    parts.append("</tbody></table></div>")
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

    def section(
        self, title: str, text: str | None = None, level: int = 2, anchor: str | None = None
    ) -> Report:
        """A heading (anchored by its slug unless ``anchor`` is given) and an optional paragraph."""
        self.heading(title, level, anchor or _slug(title))
        return self.paragraph(text) if text else self

    def table(
        self,
        rows: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        caption: str | None = None,
        index: str = "name",
    ) -> Report:
        """Rows of dicts (columns: every key in first-seen order unless given), or a mapping of
        ``{row name: {column: value}}`` whose names fill a first column called ``index``."""
        self._blocks.append(
            ("table", {"rows": table_rows(rows, index), "columns": columns, "caption": caption})
        )
        return self

    def key_values(self, values: Mapping[str, Any], caption: str | None = None) -> Report:
        """A two-column table (key, value); nested values shown as compact JSON."""
        rows = [{"key": k, "value": _plain(v)} for k, v in values.items()]
        return self.table(rows, ["key", "value"], caption)

    def bullets(self, items: Sequence[str]) -> Report:
        self._blocks.append(("bullets", {"items": [str(i) for i in items]}))
        return self

    def note(self, text: str) -> Report:
        """A highlighted remark (a caveat, a claim that did not reproduce)."""
        self._blocks.append(("note", {"text": text}))
        return self

    def claims(
        self,
        claims: Sequence[Any],
        columns: Sequence[str] | None = None,
        caption: str | None = "paper claims",
    ) -> Report:
        """The claims table: one row per claim (``core.claims.Claim`` or anything with a
        ``row()`` giving a dict, or plain dict rows); columns default to :data:`CLAIM_COLUMNS`
        present in the rows, plus ``error`` when a claim has one."""
        rows = [dict(c) if isinstance(c, Mapping) else dict(c.row()) for c in claims]
        if columns is None:
            present = {k for r in rows for k in r}
            columns = [c for c in CLAIM_COLUMNS if c in present]
            if any(r.get("error") for r in rows):
                columns.append("error")
        return self.table(rows, columns, caption)

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

    def figure(self, fig: Any, name: str, caption: str | None = None, dpi: int = 90) -> Report:
        """A matplotlib figure, rendered to PNG now (and closed): embedded in the HTML, written to
        ``figures/<name>.png`` beside the Markdown by :meth:`write`."""
        import io

        plt = require("matplotlib.pyplot", "report", "report figures")
        if not _slug(name) == name:
            raise DataError(f"figure name {name!r}: use lower-case letters, digits and '-'")
        buf = io.BytesIO()
        try:
            fig.savefig(buf, dpi=dpi, format="png", bbox_inches="tight")
        finally:
            plt.close(fig)
        return self._png(buf.getvalue(), f"{FIGURES}/{name}.png", caption or name)

    def _png(self, data: bytes, link: str, caption: str) -> Report:
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        block = {"uri": uri, "link": link, "caption": caption, "data": data}
        self._blocks.append(("image", block))
        return self

    def line_plot(
        self,
        name: str,
        series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
        xlabel: str = "",
        ylabel: str = "",
        caption: str | None = None,
    ) -> Report:
        """Curves ``{label: (xs, ys)}`` on one axis (training curves, accuracy per round)."""
        plt = require("matplotlib.pyplot", "report", "report figures")
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for label, (xs, ys) in series.items():
            ax.plot(list(xs), list(ys), marker="o" if len(xs) < 30 else None, label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend()
        return self.figure(fig, name, caption)

    def interval_plot(
        self,
        name: str,
        intervals: Mapping[str, Any],
        xlabel: str = "",
        reference: float | None = 0.0,
        caption: str | None = None,
    ) -> Report:
        """One row per label: the estimate as a dot and its interval as a bar (a forest plot).

        ``intervals`` maps labels to objects with ``estimate``, ``low``, ``high`` (a stats
        ``Interval``) or to ``(estimate, low, high)`` tuples; ``reference`` draws a dashed line.
        """
        plt = require("matplotlib.pyplot", "report", "report figures")
        labels = list(intervals)
        trip = [_triple(intervals[k]) for k in labels]
        fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * max(1, len(labels))))
        ys = list(range(len(labels)))[::-1]
        for y, (est, low, high) in zip(ys, trip):
            if math.isfinite(low) and math.isfinite(high):
                ax.plot([low, high], [y, y], color="#5b8def", linewidth=3)
            ax.plot([est], [y], "o", color="#1d1d1f")
        if reference is not None:
            ax.axvline(reference, color="#999", linestyle="--", linewidth=1)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
        return self.figure(fig, name, caption)

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
            elif kind == "bullets":
                out.append("".join(f"- {' '.join(i.split())}\n" for i in b["items"]))
            elif kind == "note":
                out.append("> " + " ".join(b["text"].split()) + "\n")
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
            elif kind == "bullets":
                items = "".join(f"<li>{esc(i)}</li>" for i in b["items"])
                body.append(f"<ul>{items}</ul>")
            elif kind == "note":
                body.append(f'<p class="note">{esc(b["text"])}</p>')
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    def write(self, folder: str | Path, stem: str = "report") -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``folder`` (each atomically), and the
        figures added with :meth:`figure` into ``folder/figures/``."""
        folder = Path(folder)
        for kind, b in self._blocks:
            if kind == "image" and b.get("data") is not None:
                atomic_write_bytes(folder / b["link"], b["data"])
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
