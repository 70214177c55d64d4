"""A real-text DDR run that needs no download: WordNet glosses as the corpus, reverse-dictionary
questions built from them, SmolLM2-135M-Instruct as V_KR and V_Gen (``ennead ddr wordnet``).

Data: Debian's ``wordnet-base`` (``/usr/share/wordnet/data.{noun,verb,adj,adv}``). Each synset
line of a data file reads ``offset lex_filenum ss_type w_cnt(hex) word lex_id ... p_cnt pointers
... [frames] | gloss``; the gloss is a definition followed by quoted examples. Lines that start
with two spaces are the licence header.

Questions are reverse-dictionary lookups: ``Which word means "<definition>"?`` with the synset's
lemmas as gold answers (the lemma never occurs in the question). The corpus holds one passage per
synset, ``"lemma, synonym: definition"``: the question synsets, their co-hyponyms (synsets with
the same hypernym, whose definitions are close and whose headwords are plausible wrong answers) and
random fill. Dense retrieval finds the right passage for most questions, but among near-miss
neighbours, so the reward depends on picking the right passage (V_KR) and reading its headword
(V_Gen), which is what DDR trains; closed-book, the 135M model rarely knows the word.

The run (:func:`run_wordnet`) is a list of resumable stages in a run folder: ``wordnet-data``,
``index``, ``eval-vanilla``, DDR's own training stages, ``eval-ddr``; it writes ``table.md`` and
``results.json``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ennead.core.errors import AssetError, DataError, StageError
from ennead.core.io import atomic_write_text, read_jsonl, write_jsonl
from ennead.core.logging import get_logger, progress
from ennead.core.runs import RunDir
from ennead.ddr.config import WORDNET_DIR, DDRConfig, WordNetSettings
from ennead.ddr.data import QARecord

log = get_logger(__name__)

PARTS = {"noun": "data.noun", "verb": "data.verb", "adj": "data.adj", "adv": "data.adv"}
INSTALL_HINT = "install Debian's WordNet data with: apt-get install wordnet-base"
SS_TYPES = {"n", "v", "a", "s", "r"}
PART_OF = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
QUESTION = 'Which word means "{definition}"? Answer with the word only.'
_QUOTED = re.compile(r'"([^"]*)"')
_MARKER = re.compile(r"\((?:a|p|ip)\)$")  # adjective position markers: big(a), galore(ip)
_WORD = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class Synset:
    """One WordNet synset: its lemmas (display form), hypernyms and gloss."""

    offset: str
    ss_type: str  # n, v, a, s (adjective satellite), r
    lex_filenum: int
    words: tuple[str, ...]
    hypernyms: tuple[str, ...]  # keys of hypernym synsets
    definition: str
    examples: tuple[str, ...]

    @property
    def key(self) -> str:
        return synset_key(self.ss_type, self.offset)

    @property
    def passage(self) -> str:
        return f"{', '.join(self.words[:3])}: {self.definition}"


def synset_key(ss_type: str, offset: str) -> str:
    """``n:00001740``; satellites share the adjective file, so ``s`` becomes ``a``."""
    return f"{'a' if ss_type == 's' else ss_type}:{offset}"


def _lemma(word: str) -> str:
    return _MARKER.sub("", word).replace("_", " ")


def split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """``'definition; "example one"; "example two"'`` -> (definition, examples)."""
    examples = tuple(e.strip() for e in _QUOTED.findall(gloss) if e.strip())
    head = gloss.split('"', 1)[0] if '"' in gloss else gloss
    definition = head.strip().rstrip(";").strip()
    return definition, examples


def parse_line(line: str, path: str | Path | None = None, lineno: int | None = None) -> Synset:
    """One synset line of a WordNet ``data.*`` file (see the module docstring for the layout)."""

    def bad(msg: str) -> DataError:
        return DataError(f"malformed WordNet synset line: {msg}", path, lineno)

    head, sep, gloss = line.partition(" | ")
    if not sep:
        head, gloss = line.rstrip("\n"), ""
    f = head.split()
    if len(f) < 6:
        raise bad(f"expected at least 6 fields before '|', got {len(f)}")
    offset, lex, ss_type, w_hex = f[0], f[1], f[2], f[3]
    if not (offset.isdigit() and len(offset) == 8):
        raise bad(f"offset {offset!r} is not 8 digits")
    if ss_type not in SS_TYPES:
        raise bad(f"ss_type {ss_type!r} is not one of {sorted(SS_TYPES)}")
    try:
        lex_filenum, w_cnt = int(lex), int(w_hex, 16)
    except ValueError:
        raise bad(f"lex_filenum {lex!r} / w_cnt {w_hex!r} are not numbers") from None
    end = 4 + 2 * w_cnt
    if w_cnt < 1 or len(f) < end + 1:
        raise bad(f"w_cnt {w_hex!r} says {w_cnt} words but the line is too short")
    words = tuple(_lemma(f[4 + 2 * i]) for i in range(w_cnt))
    try:
        p_cnt = int(f[end])
    except ValueError:
        raise bad(f"p_cnt {f[end]!r} is not a number") from None
    ptrs = f[end + 1 : end + 1 + 4 * p_cnt]
    if len(ptrs) < 4 * p_cnt:
        raise bad(f"p_cnt says {p_cnt} pointers but the line is too short")
    hypernyms = tuple(
        synset_key(ptrs[i + 2], ptrs[i + 1])
        for i in range(0, len(ptrs), 4)
        if ptrs[i] in ("@", "@i")
    )
    definition, examples = split_gloss(gloss)
    return Synset(offset, ss_type, lex_filenum, words, hypernyms, definition, examples)


def read_data_file(path: str | Path) -> Iterator[Synset]:
    """Synsets of one ``data.*`` file; the licence header (two leading spaces) is skipped."""
    path = Path(path)
    if not path.is_file():
        raise AssetError(f"WordNet data file {path} not found; {INSTALL_HINT}")
    with path.open(encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh, 1):
            if line.startswith("  ") or not line.strip():
                continue
            yield parse_line(line, path, i)


def load_synsets(
    root: str | Path = WORDNET_DIR, parts: Iterable[str] = tuple(PARTS)
) -> list[Synset]:
    root = Path(root)
    if not root.is_dir():
        raise AssetError(f"WordNet folder {root} not found; {INSTALL_HINT}")
    out: list[Synset] = []
    for part in parts:
        if part not in PARTS:
            raise DataError(f"unknown WordNet part {part!r}; use {', '.join(PARTS)}")
        out.extend(read_data_file(root / PARTS[part]))
    if not out:
        raise DataError(f"no synsets in {root} ({', '.join(parts)})")
    return out


# -- questions and corpus ------------------------------------------------------------------------
def leaks(words: Sequence[str], definition: str) -> bool:
    """True when a lemma (or its stem: all but the last 3 letters, at least 4) is in the text."""
    text = definition.lower()
    for w in words:
        for part in w.lower().replace("-", " ").split():
            stem = part[: max(4, len(part) - 3)]
            if part in text or (len(part) >= 4 and stem in text):
                return True
    return False


def eligible(s: Synset, cfg: WordNetSettings) -> bool:
    """A question synset: a chosen part of speech, a lower-case one-word headword, a definition
    of a sane length, no leak of a lemma into the definition."""
    head = s.words[0]
    n_def = len(s.definition.split())
    return (
        PART_OF[s.ss_type] in cfg.parts
        and bool(_WORD.match(head))
        and cfg.min_word_len <= len(head) <= cfg.max_word_len
        and cfg.min_definition_words <= n_def <= cfg.max_definition_words
        and not leaks(s.words, s.definition)
    )


def question_record(s: Synset, split: str, min_len: int = 4) -> QARecord:
    """Gold answers: the headword and its one-word synonyms of at least ``min_len`` letters
    (short synonyms such as "dog" for "frankfurter" would match by chance as substrings)."""
    answers = [
        w for w in dict.fromkeys(w.lower() for w in s.words) if _WORD.match(w) and len(w) >= min_len
    ]
    return QARecord(
        id=f"{split}-{s.key}",
        question=QUESTION.format(definition=s.definition),
        answers=answers or [s.words[0]],
        data_type="qa",
        meta={"synset": s.key, "split": split},
    )


@dataclass
class WordNetData:
    train: list[QARecord]
    test: list[QARecord]
    corpus: list[dict[str, str]]  # {"id", "text"}
    stats: dict[str, Any]


def build_dataset(synsets: Sequence[Synset], cfg: WordNetSettings) -> WordNetData:
    """Seeded train/test questions (distinct headwords) and a distractor-rich corpus."""
    rng = random.Random(cfg.seed)
    by_key = {s.key: s for s in synsets}
    children: dict[str, list[str]] = {}
    for s in synsets:
        for h in s.hypernyms:
            children.setdefault(h, []).append(s.key)
    pool = [s for s in synsets if eligible(s, cfg)]
    rng.shuffle(pool)
    need = cfg.train_questions + cfg.test_questions
    picked: list[Synset] = []
    heads: set[str] = set()
    for s in pool:
        if s.words[0] not in heads:
            picked.append(s)
            heads.add(s.words[0])
        if len(picked) == need:
            break
    if len(picked) < need:
        raise DataError(
            f"only {len(picked)} eligible synsets for {need} questions; lower the question counts "
            "or widen the word/definition limits"
        )
    if cfg.corpus_size < need:
        raise DataError(f"corpus_size {cfg.corpus_size} is smaller than the {need} questions")
    corpus_keys = dict.fromkeys(s.key for s in picked)
    n_siblings = 0
    for s in picked:
        sibs = sorted({c for h in s.hypernyms for c in children.get(h, []) if c != s.key})
        rng.shuffle(sibs)
        for c in sibs[: cfg.siblings]:
            if len(corpus_keys) >= cfg.corpus_size:
                break
            if c not in corpus_keys and by_key[c].definition:
                corpus_keys[c] = None
                n_siblings += 1
    rest = [s.key for s in synsets if s.definition and s.key not in corpus_keys]
    rng.shuffle(rest)
    for k in rest[: max(0, cfg.corpus_size - len(corpus_keys))]:
        corpus_keys[k] = None
    keys = list(corpus_keys)
    rng.shuffle(keys)
    corpus = [{"id": k, "text": by_key[k].passage} for k in keys]
    train = [question_record(s, "train", cfg.min_word_len) for s in picked[: cfg.train_questions]]
    test = [question_record(s, "test", cfg.min_word_len) for s in picked[cfg.train_questions :]]
    stats = {
        "synsets": len(synsets),
        "eligible": len(pool),
        "train": len(train),
        "test": len(test),
        "corpus": len(corpus),
        "sibling_distractors": n_siblings,
    }
    return WordNetData(train, test, corpus, stats)


# -- the run -------------------------------------------------------------------------------------
def _stage_timed(run: RunDir, name: str, fn: Any, times: dict[str, float]) -> Any:
    t0 = time.perf_counter()
    done = run.is_done(name)
    out = run.run_stage(name, fn)
    if not done:
        times[name] = round(time.perf_counter() - t0, 1)
    return out


def evaluate_records(
    cfg: DDRConfig,
    gen_lm: Any,
    kr_lm: Any,
    retriever: Any,
    records: Sequence[QARecord],
    folder: Path,
) -> dict[str, Any]:
    """Predictions into ``folder/predictions.jsonl``; accuracy (%) and retrieval diagnostics."""
    from ennead.ddr.pipeline import RAGPipeline

    pipe = RAGPipeline(cfg, gen_lm, kr_lm, retriever)
    preds = []
    chunk = max(1, cfg.gen.module.batch_size)
    for i in progress(range(0, len(records), chunk), desc=f"evaluating ({folder.name})"):
        preds.extend(pipe.predict(records[i : i + chunk]))
    write_jsonl(folder / "predictions.jsonl", [p.model_dump() for p in preds])
    n = len(preds)
    gold_first = gold_in_ctx = exact = 0
    for r, p in zip(records, preds):
        heads = [set(t.split(":", 1)[0].lower().split(", ")) for t in p.passages]
        gold = set(r.answers)
        gold_in_ctx += any(h & gold for h in heads)
        gold_first += bool(heads) and bool(heads[0] & gold)
        exact += first_word(p.answer) in gold
    return {
        "accuracy": 100.0 * sum(float(p.score or 0.0) for p in preds) / n,
        "first_word": 100.0 * exact / n,
        "n": n,
        "gold_in_context": 100.0 * gold_in_ctx / n,
        "gold_first": 100.0 * gold_first / n,
        "kept_per_question": sum(p.kept for p in preds) / n,
        "fell_back": sum(p.fell_back for p in preds),
    }


def first_word(text: str) -> str:
    """The answer's first word, lower-cased, without quotes or punctuation (a stricter check than
    substring accuracy, which a list of several headwords would also pass)."""
    words = re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower())
    return words[0] if words else ""


def closed_book(
    cfg: DDRConfig, gen_lm: Any, records: Sequence[QARecord], folder: Path
) -> dict[str, Any]:
    """The generator without passages: how much of the task is memory, not retrieval."""
    from ennead.ddr.modules import Generator
    from ennead.ddr.reward import reward_for

    gen = Generator.from_config(gen_lm, cfg.gen)
    answers = gen.answer([r.question for r in records], [None] * len(records))
    fn = reward_for(cfg.data_type)
    scores = [fn(a[0], r.answers) for a, r in zip(answers, records)]
    exact = [first_word(a[0]) in r.answers for a, r in zip(answers, records)]
    write_jsonl(
        folder / "predictions.jsonl",
        [{"id": r.id, "answer": a[0], "score": s} for r, a, s in zip(records, answers, scores)],
    )
    return {
        "accuracy": 100.0 * sum(scores) / len(scores),
        "first_word": 100.0 * sum(exact) / len(exact),
        "n": len(scores),
    }


def run_wordnet(cfg: DDRConfig, run: RunDir, threads: int | None = None) -> dict[str, Any]:
    """Build data and index, evaluate vanilla RAG, train DDR (Gen then KR), evaluate DDR.

    Every step is a stage of ``run`` (a rerun resumes). Returns ``{"table", "times", "data"}``;
    ``table.md`` and ``results.json`` land in the run folder.
    """
    from ennead.core.retrieval import RetrieverConfig
    from ennead.core.retrieval import build_retriever as core_build
    from ennead.ddr.pipeline import load_module_lm
    from ennead.ddr.train import DDRTrainer

    if threads:
        import torch

        torch.set_num_threads(threads)
    times: dict[str, float] = {}
    wn = cfg.wordnet
    settings = wn.model_dump()

    def data_stage(folder: Path) -> dict[str, Any]:
        synsets = load_synsets(wn.root, ["noun", "verb", "adj", "adv"])
        data = build_dataset(synsets, wn)
        write_jsonl(folder / "train.jsonl", [r.model_dump() for r in data.train])
        write_jsonl(folder / "test.jsonl", [r.model_dump() for r in data.test])
        write_jsonl(folder / "corpus.jsonl", data.corpus)
        return {**data.stats, "settings": settings}

    info = _stage_timed(run, "wordnet-data", data_stage, times)
    if info.get("settings") != settings:
        raise StageError(
            f"{run.path} was built with other WordNet settings ({info.get('settings')}); "
            "use a new --out folder or the same options"
        )
    data_dir = run.stage_dir("wordnet-data")
    train = [QARecord(**r) for r in read_jsonl(data_dir / "train.jsonl")]
    test = [QARecord(**r) for r in read_jsonl(data_dir / "test.jsonl")]
    index_dir = run.stage_dir("index") / "index"
    cfg = cfg.model_copy(deep=True)
    # Headwords are 1-3 tokens: this task's answer cap, explicit in wordnet.max_new_tokens.
    cfg.gen.max_new_tokens = cfg.train.max_new_tokens = wn.max_new_tokens
    cfg.retrieval.kind = "dense" if cfg.retrieval.kind == "given" else cfg.retrieval.kind
    cfg.retrieval.corpus = str(data_dir / "corpus.jsonl")
    cfg.retrieval.index = str(index_dir)

    def index_stage(folder: Path) -> dict[str, Any]:
        rc = RetrieverConfig(
            kind=cfg.retrieval.kind,
            k=cfg.retrieval.k,
            embedder=cfg.retrieval.embedder,
            index_path=index_dir,
        )
        r = core_build(rc, cfg.retrieval.corpus)
        return {"documents": len(r.corpus), "kind": cfg.retrieval.kind}

    _stage_timed(run, "index", index_stage, times)
    rc = RetrieverConfig(
        kind=cfg.retrieval.kind,
        k=cfg.retrieval.k,
        embedder=cfg.retrieval.embedder,
        index_path=index_dir,
    )
    retriever = core_build(rc)

    # Two copies even when both modules name the same model: LoRA is injected into the model
    # object, so a shared one would give V_KR the generator's adapter.
    base = load_module_lm(cfg.gen.module)
    kr_base = load_module_lm(cfg.kr.module) if cfg.kr.enabled else None
    table: dict[str, dict[str, Any]] = {}
    table["closed_book"] = _stage_timed(
        run, "eval-closed-book", lambda f: closed_book(cfg, base, test, f), times
    )
    table["vanilla"] = _stage_timed(
        run,
        "eval-vanilla",
        lambda f: evaluate_records(cfg, base, kr_base, retriever, test, f),
        times,
    )

    # DDR's stages are timed from their markers (they run inside the trainer).
    t0 = time.perf_counter()
    trainer = DDRTrainer(cfg, run)
    summary = trainer.fit_with(train, base, kr_base)
    times["ddr-train"] = round(time.perf_counter() - t0, 1)
    table["ddr"] = _stage_timed(
        run,
        "eval-ddr",
        lambda f: evaluate_records(cfg, trainer.gen_lm_, trainer.kr_lm_, retriever, test, f),
        times,
    )
    stage_times = {**_marker_times(run), **times}
    result = {
        "table": table,
        "times": stage_times,
        "data": {k: v for k, v in info.items() if k != "settings"},
        "settings": settings,
        "train_summary": summary,
    }
    atomic_write_text(run.path / "table.md", format_table(table, stage_times))
    atomic_write_text(run.path / "results.json", json.dumps(result, indent=2, default=str))
    return result


def _marker_times(run: RunDir) -> dict[str, float]:
    """Seconds per finished stage from its marker's start and end stamps."""
    import datetime as dt

    out: dict[str, float] = {}
    for name, done in run.stages().items():
        if not done:
            continue
        info = run.stage_info(name)
        try:
            a = dt.datetime.fromisoformat(info["started"])
            b = dt.datetime.fromisoformat(info["ended"])
        except (KeyError, ValueError):
            continue
        out[name] = round((b - a).total_seconds(), 1)
    return out


def format_table(table: dict[str, dict[str, Any]], times: dict[str, float] | None = None) -> str:
    lines = [
        "| method | accuracy % | first word exact % | gold passage in context % "
        "| gold passage first % | kept |",
        "|---|---|---|---|---|---|",
    ]

    def cell(row: dict[str, Any], k: str) -> str:
        v = row.get(k)
        return f"{v:.1f}" if isinstance(v, (int, float)) else "-"

    for m, row in table.items():
        lines.append(
            f"| {m} | {cell(row, 'accuracy')} | {cell(row, 'first_word')} | "
            f"{cell(row, 'gold_in_context')} | "
            f"{cell(row, 'gold_first')} | {cell(row, 'kept_per_question')} |"
        )
    if times:
        lines += ["", "| stage | seconds |", "|---|---|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in times.items()]
    return "\n".join(lines) + "\n"
