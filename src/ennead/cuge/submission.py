"""Prediction files: their schema, validation and scoring.

A submission is one JSON object (UTF-8)::

    {"format": "cuge-submission/1", "benchmark": "cuge-standin", "model": "SmolLM2-135M",
     "org": "...", "meta": {...reproducibility...},
     "predictions": {"pd98-seg": [{"id": "test-00000", "prediction": ["迈向", "充满"]}, ...]}}

Validation rejects, with a message that names the dataset and ids: a file over the size limit,
bytes that are not UTF-8, bad JSON (line and column), unknown keys, another benchmark, unknown
datasets (with a suggestion), duplicate, unknown or missing item ids, and predictions of the
wrong type for the dataset's format. Nothing is scored or stored until all of it passes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ennead.core.errors import DataError
from ennead.cuge.benchmark import Benchmark, DatasetEntry
from ennead.cuge.scoring import score_dataset

FORMAT = "cuge-submission/1"


class SubmissionError(DataError):
    """A rejected submission; ``status`` is the HTTP status the service answers with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class PredictionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | int
    prediction: Any


class SubmissionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = FORMAT
    benchmark: str
    benchmark_version: str | None = None
    model: str = Field(min_length=1, max_length=200)
    org: str = Field("", max_length=200)
    links: list[str] = Field(default_factory=list, max_length=5)
    honor_code: bool = Field(True, description="No test labels were used in any form.")
    meta: dict[str, Any] = Field(default_factory=dict)
    predictions: dict[str, list[PredictionItem]] = Field(min_length=1)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _check_value(fmt: str, v: Any) -> str | None:
    """None when ``v`` fits the format, else what was expected."""
    ok = {
        "tokens": lambda: isinstance(v, str) or _is_str_list(v),
        "tagged_tokens": lambda: (
            isinstance(v, str)
            or (
                isinstance(v, list)
                and all(isinstance(x, list) and len(x) == 2 and _is_str_list(x) for x in v)
            )
        ),
        "choice": lambda: (
            (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            or (isinstance(v, str) and len(v.strip()) >= 1)
        ),
        "label": lambda: isinstance(v, str | int) and not isinstance(v, bool),
        "spans": lambda: isinstance(v, list) and all(isinstance(x, list) for x in v),
        "triples": lambda: (
            isinstance(v, list) and all(isinstance(x, list) and len(x) == 3 for x in v)
        ),
        "ranking": lambda: (
            isinstance(v, str)
            or (
                isinstance(v, list)
                and all(isinstance(x, str | int) and not isinstance(x, bool) for x in v)
            )
        ),
        "text": lambda: isinstance(v, str),
        "number": lambda: isinstance(v, str | int | float) and not isinstance(v, bool),
        "correction": lambda: isinstance(v, str),
        "record": lambda: isinstance(v, dict),
    }
    expected = {
        "tokens": "a list of words or a space-separated string",
        "tagged_tokens": "a list of [word, tag] pairs or a 'word/tag' string",
        "choice": "an option index (int >= 0) or letter",
        "label": "a label string",
        "spans": "a list of [start, end, type]",
        "triples": "a list of [head, tail, relation]",
        "ranking": "a list of ids, best first",
        "text": "a string",
        "number": "a number or a numeric string",
        "correction": "the corrected sentence (a string)",
        "record": "an object of named fields",
    }
    return None if ok[fmt]() else expected[fmt]


def parse_submission(
    data: bytes, bench: Benchmark, gold_ids: Mapping[str, Sequence[str]], max_bytes: int
) -> SubmissionFile:
    """Validate a submission file against the benchmark and the hidden test ids."""
    if len(data) > max_bytes:
        raise SubmissionError(
            f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes", status=413
        )
    if not data.strip():
        raise SubmissionError("the file is empty", status=400)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"the file is not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8",
            status=400,
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"not valid JSON ({exc.msg.removesuffix(' at')}, line {exc.lineno} column {exc.colno})",
            status=400,
        ) from None
    if not isinstance(raw, dict):
        raise SubmissionError(f"a submission is a JSON object, got {type(raw).__name__}")
    try:
        sub = SubmissionFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise SubmissionError(f"schema: {loc}: {err['msg']}") from None
    if sub.format != FORMAT:
        raise SubmissionError(f"format {sub.format!r} is not supported; use {FORMAT!r}")
    if sub.benchmark != bench.name:
        raise SubmissionError(
            f"this board scores benchmark {bench.name!r}; the file is for {sub.benchmark!r}"
        )
    known = bench.dataset_ids()
    for name in sub.predictions:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SubmissionError(f"unknown dataset {name!r}{hint}; known: {', '.join(known)}")
        if name not in gold_ids:
            raise SubmissionError(f"dataset {name!r} has no test labels on this server")
        _check_items(bench.dataset(name), sub.predictions[name], gold_ids[name])
    return sub


def _check_items(entry: DatasetEntry, items: list[PredictionItem], gold: Sequence[str]) -> None:
    seen: set[str] = set()
    dupes: list[str] = []
    for it in items:
        key = str(it.id)
        if key in seen:
            dupes.append(key)
        seen.add(key)
    if dupes:
        raise SubmissionError(f"{entry.id}: duplicate ids {_few(dupes)}")
    gold_set = set(gold)
    if not gold_set:
        raise SubmissionError(f"{entry.id}: the test set on this server is empty", status=500)
    unknown = [i for i in seen if i not in gold_set]
    if unknown:
        raise SubmissionError(f"{entry.id}: ids not in the test set {_few(sorted(unknown))}")
    missing = [i for i in gold if i not in seen]
    if missing:
        raise SubmissionError(
            f"{entry.id}: {len(missing)} of {len(gold)} test ids have no prediction: "
            f"{_few(missing)}"
        )
    for it in items:
        expected = _check_value(entry.spec.format, it.prediction)
        if expected:
            raise SubmissionError(
                f"{entry.id}: id {it.id}: expected {expected}, got "
                f"{json.dumps(it.prediction, ensure_ascii=False)[:60]}"
            )


def _few(ids: Sequence[str], n: int = 5) -> str:
    more = f" and {len(ids) - n} more" if len(ids) > n else ""
    return ", ".join(ids[:n]) + more


def score_submission(
    bench: Benchmark, sub: SubmissionFile, gold: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, dict[str, float]]:
    """Raw scores ``{dataset: {metric key: percent}}`` of a validated submission."""
    out = {}
    for name, items in sub.predictions.items():
        preds = {str(it.id): it.prediction for it in items}
        try:
            out[name] = score_dataset(bench.dataset(name), preds, gold[name])
        except DataError as exc:
            raise SubmissionError(f"cannot score: {exc}") from None
    return out


def make_submission(
    bench: Benchmark,
    predictions: Mapping[str, Mapping[str, Any]],
    model: str,
    org: str = "",
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The submission JSON object for ``{dataset: {id: prediction}}``."""
    return {
        "format": FORMAT,
        "benchmark": bench.name,
        "benchmark_version": bench.version,
        "model": model,
        "org": org,
        "meta": dict(meta or {}),
        "predictions": {
            d: [{"id": i, "prediction": p} for i, p in preds.items()]
            for d, preds in predictions.items()
        },
    }


def dumps(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False).encode("utf-8")
