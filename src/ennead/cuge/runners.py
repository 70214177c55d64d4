"""Runners turn a model into predictions: the rule baseline, or any core LM backend.

The LM runner renders each dataset's versioned prompt template (from the registry), asks the
backend in batches, parses the completions into the dataset's format, and caches every completion
in SQLite keyed by runner, model, template hash, decoding parameters and prompt, so a re-run costs
nothing and a changed template or decoding setting never reuses stale answers.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ennead.core.errors import DataError
from ennead.core.io import iter_jsonl
from ennead.core.logging import get_logger
from ennead.cuge.benchmark import Benchmark, DatasetEntry
from ennead.cuge.standin import _overlap_rank, rule_predict

log = get_logger(__name__)
LETTERS = "ABCDEFGHIJ"


def template_hash(template: Mapping[str, Any]) -> str:
    text = json.dumps(dict(template), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Runner(Protocol):
    name: str
    model: str

    def predict(
        self, entry: DatasetEntry, items: list[dict[str, Any]], data_dir: Path
    ) -> dict[str, Any]: ...

    def record(self) -> dict[str, Any]: ...


class RuleRunner:
    """The stand-in suite's deterministic baseline."""

    name = "rule"
    model = "rule-baseline"

    def predict(
        self, entry: DatasetEntry, items: list[dict[str, Any]], data_dir: Path
    ) -> dict[str, Any]:
        return rule_predict(entry.id, items, data_dir)

    def record(self) -> dict[str, Any]:
        return {"runner": self.name, "model": self.model, "decoding": None, "templates": {}}


# -- cache ---------------------------------------------------------------------------------------
class CompletionCache:
    """SQLite cache of completions; safe to share between threads of one process."""

    SCHEMA = 1

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, runner TEXT, "
                "model TEXT, template_hash TEXT, params TEXT, prompt TEXT, completion TEXT, "
                "created REAL)"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            if self._db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                self._db.execute("INSERT INTO schema_version VALUES (?)", (self.SCHEMA,))

    @staticmethod
    def key(runner: str, model: str, thash: str, params: Mapping[str, Any], prompt: str) -> str:
        blob = json.dumps(
            [runner, model, thash, dict(params), prompt], sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, completion FROM completions WHERE key IN ({marks})", chunk
                ).fetchall()
                out.update(dict(rows))
        return out

    def put_many(self, rows: Sequence[tuple[str, str, str, str, str, str, str]]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO completions VALUES (?,?,?,?,?,?,?,?)",
                [(*r, time.time()) for r in rows],
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        self._db.close()


# -- parsing completions -------------------------------------------------------------------------
def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def parse_completion(
    kind: str, text: str, item: Mapping[str, Any], template: Mapping[str, Any]
) -> Any:
    """A completion as a prediction of the dataset's format (never raises: bad output scores 0)."""
    line = _first_line(text)
    if kind == "tokens":
        words = line.split()
        return words or [item["input"].get("text", "")]
    if kind == "tagged_tokens":
        out = []
        for tok in line.split():
            word, sep, tag = tok.rpartition("/")
            out.append([word, tag] if sep and word else [tok, "n"])
        return out or [[item["input"].get("text", ""), "n"]]
    if kind in ("choice", "rerank"):
        # A letter standing alone ("B", "答案是B", "the answer is c"), capitals first.
        m = re.search(r"(?<![A-Za-z])([A-J])(?![A-Za-z])", text) or re.search(
            r"(?<![A-Za-z])([a-j])(?![A-Za-z])", text
        )
        return LETTERS.index(m.group(1).upper()) if m else 0
    if kind == "label":
        labels: Mapping[str, str] = template.get("labels", {})
        hits = [(text.find(k), v) for k, v in labels.items() if k in text]
        if hits:
            return min(hits)[1]
        return next(iter(labels.values()), line)
    if kind in ("text", "number"):
        return line
    raise DataError(f"unknown template parse kind {kind!r}")


def _options(options: Sequence[str]) -> str:
    return "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))


class LMRunner:
    """Predictions from a core LM backend (``lm.generate(prompts, params)``)."""

    name = "lm"

    def __init__(
        self,
        lm: Any,
        model: str,
        bench: Benchmark,
        *,
        max_new_tokens: int | None = None,
        batch_size: int = 8,
        cache: CompletionCache | None = None,
        chat: bool = True,
        seed: int = 0,
    ):
        self.lm, self.model, self.bench = lm, model, bench
        self.max_new_tokens, self.batch_size, self.cache = max_new_tokens, batch_size, cache
        self.chat, self.seed = chat, seed
        self.templates: dict[str, str] = {}
        self.calls = 0
        self.cache_hits = 0

    def _params(self, template: Mapping[str, Any]) -> dict[str, Any]:
        limit = self.max_new_tokens or int(template.get("max_new_tokens", 64))
        return {"temperature": 0.0, "max_new_tokens": limit, "seed": self.seed}

    def _prompt(
        self, template: Mapping[str, Any], item: Mapping[str, Any], candidates: Sequence[str] = ()
    ) -> str:
        fields = dict(item["input"])
        if "options" in fields:
            fields["options"] = _options(fields["options"])
        if candidates:
            fields["options"] = _options(candidates)
        try:
            return str(template["prompt"]).format(**fields)
        except KeyError as exc:
            raise DataError(f"template needs field {exc} that the item lacks") from None

    def predict(
        self, entry: DatasetEntry, items: list[dict[str, Any]], data_dir: Path
    ) -> dict[str, Any]:
        if entry.spec.template is None:
            raise DataError(
                f"{entry.id}: no prompt template in the registry; the LM runner "
                "needs one (field 'template')"
            )
        template = self.bench.template(entry.spec.template)
        thash = template_hash(template)
        self.templates[entry.id] = f"{entry.spec.template}@{thash}"
        kind = str(template["parse"])
        shortlists: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        if kind == "rerank":
            corpus = list(iter_jsonl(Path(data_dir) / entry.id / "corpus.jsonl"))
            texts = {d["id"]: d["text"] for d in corpus}
            for it in items:
                shortlists[it["id"]] = _overlap_rank(it["input"]["query"], corpus, 10)
        k = int(template.get("candidates", 4))
        prompts = []
        for it in items:
            cands = [texts[d] for d in shortlists.get(it["id"], [])[:k]]
            prompts.append(self._prompt(template, it, cands))
        completions = self._complete(prompts, thash, self._params(template))
        out: dict[str, Any] = {}
        for it, text in zip(items, completions):
            pred = parse_completion(kind, text, it, template)
            if kind == "rerank":
                ranked = shortlists[it["id"]]
                pick = ranked[pred] if pred < min(k, len(ranked)) else ranked[0]
                pred = [pick, *[d for d in ranked if d != pick]]
            out[it["id"]] = pred
        return out

    def _complete(self, prompts: list[str], thash: str, params: dict[str, Any]) -> list[str]:
        from ennead.core.backends.base import SamplingParams

        keys = [CompletionCache.key(self.name, self.model, thash, params, p) for p in prompts]
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        self.cache_hits += sum(k in cached for k in keys)
        todo = [i for i, k in enumerate(keys) if k not in cached]
        sampling = SamplingParams(**params)
        new_rows = []
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            batch_prompts: list[Any] = [
                [{"role": "user", "content": prompts[i]}] if self.chat else prompts[i]
                for i in batch
            ]
            outs = self.lm.generate(batch_prompts, sampling)
            self.calls += 1
            if len(outs) != len(batch):
                raise DataError(f"backend returned {len(outs)} results for {len(batch)} prompts")
            for i, completions in zip(batch, outs):
                cached[keys[i]] = completions[0].text
                new_rows.append(
                    (
                        keys[i],
                        self.name,
                        self.model,
                        thash,
                        json.dumps(params, sort_keys=True),
                        prompts[i],
                        completions[0].text,
                    )
                )
            if self.cache is not None and new_rows:
                self.cache.put_many(new_rows)  # per batch: an interrupted run keeps its work
                new_rows = []
        return [cached[k] for k in keys]

    def record(self) -> dict[str, Any]:
        return {
            "runner": self.name,
            "model": self.model,
            "decoding": {
                "temperature": 0.0,
                "max_new_tokens": self.max_new_tokens,
                "seed": self.seed,
                "chat_template": self.chat,
            },
            "templates": dict(self.templates),
        }
