"""DDR's JSONL records and loaders for KILT / FlashRAG-style files.

A record: ``{"id", "question", "answers": [str], "data_type", "passages": [str], ...}``.
Loaders accept the common field names: question | input | query; answers | answer |
golden_answers | output | possible_answers | answerKey (a string, a list of strings or a list of
``{"answer": ...}``); passages | ctxs | passage | retrieval_result, whose items are strings or
objects with text | segment | contents (+ optional title).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ennead.core.errors import DataError
from ennead.core.io import iter_jsonl

QUESTION_KEYS = ("question", "input", "query")
ANSWER_KEYS = ("answers", "answer", "golden_answers", "output", "possible_answers", "answerKey")
PASSAGE_KEYS = ("passages", "ctxs", "passage", "retrieval_result")
TEXT_KEYS = ("text", "segment", "contents", "content")


class QARecord(BaseModel):
    id: str
    question: str
    answers: list[str] = Field(default_factory=list)
    data_type: str = "qa"
    passages: list[str] = Field(default_factory=list)
    scenario: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


def _answers(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _answers(value.get("answer") or value.get("text"))
    if isinstance(value, list):
        return [a for item in value for a in _answers(item)]
    return [str(value)]


def _passage_text(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for k in TEXT_KEYS:
            if isinstance(item.get(k), str):
                title = item.get("title")
                return f"{title}: {item[k]}" if title and k != "contents" else item[k]
    return None


def parse_record(
    row: dict[str, Any],
    index: int,
    path: str | Path | None = None,
    need_answers: bool = True,
    data_type: str | None = None,
) -> QARecord:
    line = index + 1
    q = next((row[k] for k in QUESTION_KEYS if isinstance(row.get(k), str)), None)
    if not q or not q.strip():
        raise DataError(f"no question (looked for {', '.join(QUESTION_KEYS)})", path, line)
    answers = next((_answers(row[k]) for k in ANSWER_KEYS if k in row), [])
    answers = [a for a in answers if a.strip()]
    if need_answers and not answers:
        raise DataError(
            f"question {q[:60]!r} has no gold answers (looked for {', '.join(ANSWER_KEYS)})",
            path,
            line,
        )
    passages: list[str] = []
    for k in PASSAGE_KEYS:
        if k in row:
            if not isinstance(row[k], list):
                raise DataError(f"{k!r} must be a list of passages", path, line)
            for j, item in enumerate(row[k]):
                text = _passage_text(item)
                if text is None:
                    raise DataError(f"{k}[{j}] has no text (looked for {TEXT_KEYS})", path, line)
                passages.append(text)
            break
    rid = row.get("id", row.get("_id", index))
    known = set(QUESTION_KEYS + ANSWER_KEYS + PASSAGE_KEYS) | {"id", "_id", "data_type", "scenario"}
    return QARecord(
        id=str(rid),
        question=q.strip(),
        answers=answers,
        data_type=str(row.get("data_type") or data_type or "qa"),
        passages=passages,
        scenario=row.get("scenario"),
        meta={k: v for k, v in row.items() if k not in known},
    )


def load_records(
    path: str | Path, need_answers: bool = True, data_type: str | None = None
) -> list[QARecord]:
    rows = [
        parse_record(row, i, path, need_answers, data_type)
        for i, row in enumerate(iter_jsonl(path))
    ]
    if not rows:
        raise DataError("no questions in file", path)
    seen: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r.id in seen:
            raise DataError(f"duplicate id {r.id!r} (first on line {seen[r.id] + 1})", path, i + 1)
        seen[r.id] = i
    return rows


def as_records(items: Iterable[QARecord | dict[str, Any]]) -> list[QARecord]:
    return [i if isinstance(i, QARecord) else parse_record(i, n) for n, i in enumerate(items)]


def load_mixture(files: Iterable[str | Path]) -> list[QARecord]:
    """The paper's training mixture from a user's files (the authors' ``{id, question, answer,
    data_type, cot}`` rows, with or without ``passage``): every file's questions, ids made unique
    per file, and every data type checked to have a training reward (``reward_for``)."""
    from ennead.ddr.reward import reward_for

    out: list[QARecord] = []
    paths = [Path(f) for f in files]
    if not paths:
        raise DataError("the training mixture names no file")
    for path in paths:
        for i, rec in enumerate(load_records(path)):
            try:
                reward_for(rec.data_type)
            except Exception as exc:  # ConfigError: name the line that has the unknown type
                raise DataError(str(exc), path, i + 1) from None
            out.append(rec.model_copy(update={"id": f"{path.stem}:{rec.id}"}))
    return out
