"""Persona materials: a folder per persona, loaded and checked.

Layout (one pair of files per life stage, one paragraph a line)::

    ada/
      persona.yaml        name, stages, description, optional style marker, facts, stances
      I/knowledge.txt     biography, experiences, facts (objective material)
      I/style.txt         the persona's own words (subjective material)
      II/knowledge.txt
      II/style.txt

``facts`` and ``stances`` in ``persona.yaml`` are optional per stage; where present they are the
known answers the template teacher writes and the offline evaluation scores against. Every problem
is a :class:`~ennead.core.errors.DataError` naming the file and, where there is one, the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError

FILES = ("knowledge.txt", "style.txt")
ALLOWED_KEYS = {"name", "stages", "description", "marker", "facts", "stances"}


@dataclass
class Persona:
    """One persona: its texts per stage and the known facts and stances per stage."""

    name: str
    stages: list[str]
    description: str
    marker: str = ""
    knowledge: dict[str, list[str]] = field(default_factory=dict)
    style: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, dict[str, str]] = field(default_factory=dict)
    stances: dict[str, dict[str, str]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def key(self) -> str:
        """A short id: the folder name (or the name, lower case)."""
        return self.path.name if self.path is not None else self.name.lower().replace(" ", "-")

    def topics(self) -> list[str]:
        return sorted({t for s in self.stances.values() for t in s})

    def flipped(self) -> list[str]:
        """Topics whose stance differs between two stages that both state one."""
        out = []
        for t in self.topics():
            vals = {self.stances[s][t] for s in self.stages if t in self.stances.get(s, {})}
            if len(vals) > 1:
                out.append(t)
        return out

    def answer_prefix(self) -> str:
        return f"{self.marker} " if self.marker else ""


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def read_paragraphs(path: Path) -> list[str]:
    """Non-blank lines of a UTF-8 file; missing, unreadable or empty files are DataErrors."""
    if not path.is_file():
        raise DataError("persona file not found (a stage needs knowledge.txt and style.txt)", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", path) from None
    paras = [" ".join(line.split()) for line in text.splitlines()]
    paras = [p for p in paras if p]
    if not paras:
        raise DataError("persona file is empty: one paragraph a line expected", path)
    return paras


def _stage_map(
    raw: Any, key: str, stages: list[str], path: Path, text: str
) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DataError(f"'{key}' must map stages to key: value", path, _line_of(text, f"{key}:"))
    out: dict[str, dict[str, str]] = {}
    for stage, values in raw.items():
        stage = str(stage)
        if stage not in stages:
            raise DataError(
                f"'{key}' names stage {stage!r}, which is not in stages ({', '.join(stages)})",
                path,
                _line_of(text, f"{stage}:"),
            )
        if not isinstance(values, dict):
            raise DataError(f"'{key}.{stage}' must be a mapping", path, _line_of(text, f"{stage}:"))
        row = {str(k).strip(): str(v).strip() for k, v in values.items()}
        for k, v in row.items():
            if not k or not v:
                raise DataError(f"'{key}.{stage}' has an empty entry", path, _line_of(text, k or v))
            if key == "stances" and v not in ("pro", "contra"):
                raise DataError(
                    f"stance of {k!r} at stage {stage} is {v!r}; allowed: pro, contra",
                    path,
                    _line_of(text, f"{k}:"),
                )
        out[stage] = row
    return out


def load_persona(folder: str | Path) -> Persona:
    """Load and check one persona folder."""
    import yaml

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("persona folder not found", folder)
    ypath = folder / "persona.yaml"
    if not ypath.is_file():
        raise DataError("persona.yaml not found in the persona folder", ypath)
    text = ypath.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}",
            ypath,
            mark.line + 1 if mark is not None else None,
        ) from None
    if not isinstance(raw, dict):
        raise DataError("persona.yaml must be a mapping (name, stages, ...)", ypath)
    unknown = sorted(set(raw) - ALLOWED_KEYS)
    if unknown:
        raise DataError(
            f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(ALLOWED_KEYS))}",
            ypath,
            _line_of(text, f"{unknown[0]}:"),
        )
    name = str(raw.get("name") or "").strip()
    if not name:
        raise DataError("persona.yaml needs a non-empty 'name'", ypath, _line_of(text, "name:"))
    stages = [str(s) for s in raw.get("stages") or []]
    if not stages:
        raise DataError("persona.yaml needs 'stages' (e.g. [I, II])", ypath)
    if len(set(stages)) != len(stages):
        raise DataError("'stages' lists a stage twice", ypath, _line_of(text, "stages"))
    persona = Persona(
        name=name,
        stages=stages,
        description=" ".join(str(raw.get("description") or "").split()),
        marker=str(raw.get("marker") or "").strip(),
        facts=_stage_map(raw.get("facts"), "facts", stages, ypath, text),
        stances=_stage_map(raw.get("stances"), "stances", stages, ypath, text),
        path=folder,
    )
    for stage in stages:
        sdir = folder / stage
        if not sdir.is_dir():
            raise DataError(
                f"stage {stage!r} is named in persona.yaml but has no folder {sdir.name}/ "
                f"with {' and '.join(FILES)}",
                ypath,
                _line_of(text, "stages"),
            )
        persona.knowledge[stage] = read_paragraphs(sdir / "knowledge.txt")
        persona.style[stage] = read_paragraphs(sdir / "style.txt")
    return persona


def load_personas(root: str | Path) -> list[Persona]:
    """Every persona folder under ``root`` (folders holding a persona.yaml), sorted by name."""
    root = Path(root)
    if (root / "persona.yaml").is_file():
        return [load_persona(root)]
    if not root.is_dir():
        raise DataError("personas folder not found", root)
    folders = sorted(p for p in root.iterdir() if (p / "persona.yaml").is_file())
    if not folders:
        raise DataError("no persona folders (each needs a persona.yaml)", root)
    return [load_persona(p) for p in folders]


def shipped_personas_dir() -> Path:
    """The three original personas shipped with ennead."""
    return Path(__file__).parent / "personas"
