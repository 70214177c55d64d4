"""Leaderboards: full, lite, per-dataset and custom boards, with CSV/Markdown/HTML exports.

A board is a :class:`BoardSpec` (selection, weights, aggregator, completeness) applied to a list
of :class:`Entry` (one per submission: raw dataset scores plus metadata). Ranking is by the index,
ties broken by the earlier submission, as the spec's pseudocode says. ``strict`` completeness
leaves out entries that lack a selected dataset; ``lenient`` scores them on what they have and
marks them incomplete. A submission whose authors did not confirm the honor code
(``honor_code: false``) is ranked but flagged in every export. Every user string (model, org,
board name, label values) is escaped in every export, Markdown headings included.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from ennead.core.config import BaseConfig, validation_to_config_error
from ennead.core.errors import ConfigError
from ennead.core.eval.report import Report, md_cell
from ennead.core.io import atomic_write_text
from ennead.cuge.benchmark import Benchmark
from ennead.cuge.scoring import (
    Layout,
    MatrixScorer,
    RawScores,
    Selection,
    check_rule_weights,
    check_unique,
    drill_down,
)

Rule = Literal["mean", "weighted", "harmonic", "geometric"]


class BoardSpec(BaseConfig):
    """A board: which datasets, how they weigh, how levels combine."""

    name: str = Field("full", description="Board title.")
    capabilities: list[str] = Field(default_factory=list, description="Keep these capabilities.")
    tasks: list[str] = Field(default_factory=list, description="Keep these tasks.")
    datasets: list[str] = Field(default_factory=list, description="Keep these datasets.")
    labels: dict[str, list[str]] = Field(
        default_factory=dict, description="Keep datasets carrying one of these label values."
    )
    lite: bool = Field(False, description="Keep only the lite datasets (one per capability).")
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="Weights of capability/task/dataset ids (rules weighted, harmonic, "
        "geometric; refused under mean) and of dataset:metric keys (any rule).",
    )
    aggregator: Rule = Field(
        "mean", description="mean (documented), weighted, harmonic, geometric."
    )
    completeness: Literal["strict", "lenient"] = Field(
        "strict", description="strict: drop entries missing a dataset; lenient: mark them."
    )

    @field_validator("capabilities", "tasks", "datasets")
    @classmethod
    def _unique_ids(cls, v: list[str], info: Any) -> list[str]:
        check_unique(v, str(info.field_name))
        return v

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, values in v.items():
            check_unique(values, f"labels.{key}")
        return v

    @model_validator(mode="after")
    def _weights_fit_rule(self) -> BoardSpec:
        check_rule_weights(self.aggregator, self.weights)
        return self

    def selection(self) -> Selection:
        return Selection.make(
            self.capabilities, self.tasks, self.datasets, self.labels, self.lite, self.weights
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> BoardSpec:
        from pydantic import ValidationError

        from ennead.core.config import read_yaml

        path = Path(path)
        if path.is_dir():
            raise ConfigError(f"board spec {path} is a folder; expected a YAML file")
        try:
            return cls.model_validate(read_yaml(path))
        except ValidationError as exc:
            raise validation_to_config_error(cls, exc, str(path)) from None

    @classmethod
    def preset(cls, name: str) -> BoardSpec:
        if name == "full":
            return cls(name="full")
        if name == "lite":
            return cls(name="lite", lite=True)
        raise ConfigError(f"unknown board {name!r}; use full, lite, a dataset id or a YAML file")


@dataclass
class Entry:
    """One submission on a board."""

    id: str
    model: str
    raw: dict[str, dict[str, float]]
    org: str = ""
    date: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    honor_code: bool = True  # False: the authors did not confirm that no test labels were used


FLAG_NO_HONOR = "no honor code"


@dataclass
class BoardRow:
    rank: int | None
    entry: Entry
    index: float
    index_raw: float | None
    capabilities: dict[str, tuple[float | None, float | None]]  # id -> (raw, normalised)
    tasks: dict[str, tuple[float | None, float | None]]
    datasets: dict[str, tuple[float | None, float | None]]
    complete: bool
    missing: list[str]


@dataclass
class Board:
    spec: BoardSpec
    layout: Layout
    rows: list[BoardRow]
    excluded: list[tuple[str, list[str]]]  # (entry id, missing datasets) left out by strict

    @property
    def capability_ids(self) -> list[str]:
        return [c for c, _, _ in self.layout.hierarchy()]

    def drill_down(self, entry_id: str) -> Any:
        row = next((r for r in self.rows if r.entry.id == entry_id), None)
        if row is None:
            raise ConfigError(f"no entry {entry_id!r} on board {self.spec.name!r}")
        return drill_down(self.layout, row.entry.raw, self.spec.aggregator, not row.complete)

    # -- exports ----------------------------------------------------------------------------
    def table(self, level: str = "capability", markdown: bool = False) -> list[dict[str, Any]]:
        """One dict per row: rank, model, org, date, per-node raw and normalised, index.

        ``markdown``: user strings get their Markdown punctuation escaped (table cells are
        HTML-escaped by the core report; a model name must not become a link either)."""
        cell = _md_punct if markdown else str
        out = []
        for r in self.rows:
            row: dict[str, Any] = {
                "rank": r.rank,
                "model": cell(r.entry.model),
                "org": cell(r.entry.org),
                "date": cell(r.entry.date),
                "submission": r.entry.id,
                "honor_code": r.entry.honor_code,
            }
            nodes = {"capability": r.capabilities, "task": r.tasks, "dataset": r.datasets}[level]
            for node, (raw, norm) in nodes.items():
                row[f"{node} raw"] = _round(raw, 2)
                row[f"{node} norm"] = _round(norm, 2)
            row["index"] = _round(r.index, 2)
            row["complete"] = r.complete
            out.append(row)
        return out

    def to_csv(self, level: str = "capability") -> str:
        rows = self.table(level)
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return buf.getvalue()

    def display_rows(self, markdown: bool = False) -> list[dict[str, Any]]:
        """As the site shows it: ``raw (normalised)`` per capability, integer index.

        ``markdown``: for ``markdown_table`` (user strings' Markdown punctuation escaped)."""
        cell = _md_punct if markdown else str
        out = []
        for r in self.rows:
            row: dict[str, Any] = {
                "rank": r.rank if r.rank is not None else "-",
                "model": cell(r.entry.model),
                "org": cell(r.entry.org),
                "date": cell(r.entry.date),
                "flag": "" if r.entry.honor_code else FLAG_NO_HONOR,
            }
            for cap in self.capability_ids:
                raw, norm = r.capabilities.get(cap, (None, None))
                row[cap] = "" if norm is None else f"{raw:.2f} ({norm:.0f})"
            row["index"] = f"{r.index:.0f}" + ("" if r.complete else " *")
            out.append(row)
        return out

    def report(self, drill: int = 3, markdown: bool = False) -> Report:
        """The board as a report; ``markdown`` escapes free text for Markdown (the core report
        escapes table cells in both formats and everything in HTML, not Markdown headings)."""
        text = _md_text if markdown else str
        bench = self.layout.bench
        rep = Report(
            text(f"CUGE board: {self.spec.name}"),
            text(
                f"{bench.spec.title or bench.name} {bench.version}; "
                f"aggregator {self.spec.aggregator}; completeness {self.spec.completeness}; "
                f"selection: {self.spec.selection().describe()}"
            ),
        )
        rep.paragraph(
            "Each cell is the raw score (normalised score, baseline = 100). The index is the "
            f"{self.spec.aggregator} of the capability scores, each the {self.spec.aggregator} "
            "of its tasks, each of its datasets."
        )
        rep.table(self.display_rows(markdown), caption="Leaderboard")
        notes = []
        if any(not r.complete for r in self.rows):
            notes.append("* incomplete: scored on the datasets it has (lenient board).")
        if any(not r.entry.honor_code for r in self.rows):
            notes.append(
                f"flag '{FLAG_NO_HONOR}': the authors did not confirm that no test labels were "
                "used in any form (honor_code: false); ranked, but not comparable."
            )
        if self.excluded:
            notes.append(
                "Left out (strict board, missing datasets): "
                + "; ".join(f"{e} lacks {', '.join(m)}" for e, m in self.excluded)
            )
        if self.layout.unnormalised:
            notes.append(
                "Reported raw only (no baseline score): " + ", ".join(self.layout.unnormalised)
            )
        for n in notes:
            rep.paragraph(text(n))
        rep.heading("Datasets")
        rep.table(self.table("dataset", markdown), caption="Raw and normalised score per dataset")
        for r in self.rows[:drill]:
            flag = "" if r.entry.honor_code else f" [{FLAG_NO_HONOR}]"
            rep.heading(text(f"Drill-down: {r.entry.model} ({r.entry.id}){flag}"), 3)
            rep.aggregation(self.drill_down(r.entry.id))
        return rep

    def to_markdown(self) -> str:
        return self.report(markdown=True).to_markdown()

    def to_html(self) -> str:
        return self.report().to_html()

    def write(self, folder: str | Path, stem: str = "board") -> dict[str, str]:
        folder = Path(folder)
        md = atomic_write_text(folder / f"{stem}.md", self.to_markdown())
        page = atomic_write_text(folder / f"{stem}.html", self.to_html())
        csv_path = atomic_write_text(folder / f"{stem}.csv", self.to_csv())
        return {"markdown": str(md), "html": str(page), "csv": str(csv_path)}


# Enough to stop emphasis, code, links/images (no "[" -> no link) and headings; parentheses
# stay readable ("CPM-2 (11B)").
_MD_PUNCT = "\\`*_[]#!~"


def _md_punct(value: str) -> str:
    """Markdown punctuation backslash-escaped, so user text renders as text."""
    return "".join("\\" + ch if ch in _MD_PUNCT else ch for ch in str(value))


def _md_text(value: str) -> str:
    """Free text for a Markdown heading or paragraph: Markdown punctuation backslash-escaped,
    HTML-significant characters as entities, one line."""
    return md_cell(_md_punct(value))


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _nan_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def build_board(
    bench: Benchmark, baselines: RawScores, entries: Sequence[Entry], spec: BoardSpec | None = None
) -> Board:
    """Score ``entries`` on the board ``spec`` and rank them."""
    spec = spec or BoardSpec()
    layout = Layout.build(bench, baselines, spec.selection())
    scorer = MatrixScorer(layout, spec.aggregator)
    scored = scorer.score([e.raw for e in entries])
    rows, excluded = [], []
    for i, entry in enumerate(entries):
        missing = [d for j, d in enumerate(scored.datasets) if math.isnan(scored.dataset[i, j])]
        complete = not missing
        if (not complete and spec.completeness == "strict") or math.isnan(scored.index[i]):
            excluded.append((entry.id, missing))
            continue

        def pairs(ids: list[str], raw: Any, norm: Any, i: int = i) -> dict[str, Any]:
            return {k: (_nan_none(raw[i, j]), _nan_none(norm[i, j])) for j, k in enumerate(ids)}

        rows.append(
            BoardRow(
                None,
                entry,
                float(scored.index[i]),
                _nan_none(scored.index_raw[i]),
                pairs(scored.capabilities, scored.capability_raw, scored.capability),
                pairs(scored.tasks, scored.task_raw, scored.task),
                pairs(scored.datasets, scored.dataset_raw, scored.dataset),
                complete,
                missing,
            )
        )
    rows.sort(key=lambda r: (-r.index, r.entry.date, r.entry.id))
    for rank, row in enumerate(rows, start=1):
        row.rank = rank
    return Board(spec, layout, rows, excluded)


def dataset_board(bench: Benchmark, entries: Sequence[Entry], dataset: str) -> list[dict[str, Any]]:
    """Per-dataset board: raw metric scores only (no baseline needed), best first."""
    entry = bench.dataset(dataset)
    keys = [m.key for m in entry.spec.metrics]
    rows = []
    for e in entries:
        scores = e.raw.get(dataset)
        if not scores:
            continue
        row: dict[str, Any] = {
            "model": e.model,
            "org": e.org,
            "date": e.date,
            "submission": e.id,
            "flag": "" if e.honor_code else FLAG_NO_HONOR,
        }
        row.update({k: _round(scores.get(k), 2) for k in keys})
        rows.append(row)
    first = keys[0]
    rows.sort(key=lambda r: (-(r[first] if r[first] is not None else -math.inf), r["date"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return [{"rank": r.pop("rank"), **r} for r in rows]


def load_board_spec(value: str | Path | Mapping[str, Any] | None) -> BoardSpec:
    """``full``/``lite``, a board-spec YAML path, or a mapping."""
    if value is None:
        return BoardSpec()
    if isinstance(value, Mapping):
        from pydantic import ValidationError

        try:
            return BoardSpec.model_validate(dict(value))
        except ValidationError as exc:
            raise validation_to_config_error(BoardSpec, exc, "board") from None
    text = str(value)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        return BoardSpec.from_yaml(text)
    return BoardSpec.preset(text)


def dump_board_spec(spec: BoardSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
