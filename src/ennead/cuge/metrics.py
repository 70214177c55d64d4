"""CUGE's metrics, on structured predictions, in core's one metric registry.

Each metric is a :class:`CUGEMetric` registered in :mod:`ennead.core.eval.metrics` (the only
metric registry): like every core metric it scores 0-1, on strings (JSON strings for structured
items) through ``corpus_score``, and also on the JSON values of a dataset's format (word lists,
spans, rankings, text, ...) through ``CUGEMetric.score(predictions, golds, **params)``. CUGE
shows percent, as the report prints them: :func:`score_metric` is ``100 * score``.

The names are declared as ``ennead.metrics`` entry points (pyproject), so ``ennead ls`` lists
them without importing ``ennead.cuge``; the first lookup imports this module, which registers the
objects with their summaries.

>>> score_metric("seg_f1", [["北京", "大学生"]], [["北京大学", "生"]])
0.0
>>> round(score_metric("seg_f1", [["我", "爱", "北京"]], [["我", "爱北京"]]), 2)
40.0
>>> round(get_cuge_metric("seg_f1").score([["我", "爱", "北京"]], [["我", "爱北京"]]), 2)
0.4
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

from ennead.core.errors import DataError, UnknownNameError
from ennead.core.eval.metrics import Metric
from ennead.core.eval.metrics import metrics as registry
from ennead.core.imports import require

Fn = Callable[..., float]


def _no_structured(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    raise NotImplementedError


@dataclass(frozen=True)
class CUGEMetric(Metric):
    """A core :class:`Metric` (0-1) that also scores structured items: ``score(preds, golds,
    **params)`` on JSON values of a dataset's format, 0-1 as well."""

    score: Fn = _no_structured
    needs_gold: bool = True


# One attribute per metric: the targets of the ``ennead.metrics`` entry points
# (``ennead.cuge.metrics:CORE.seg_f1``).
CORE = SimpleNamespace()


def _decode(value: str) -> Any:
    text = value.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


_TEXT_METRICS = {"em_zh", "rouge_l_zh", "rouge_1_zh", "rouge_2_zh", "bleu_zh"}


def _string_corpus(name: str, fn: Fn) -> Callable[[Sequence[str], Sequence[Sequence[str]]], float]:
    """The core (string) view of a structured metric: JSON strings are decoded first."""

    def corpus(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
        if name in _TEXT_METRICS:
            golds: list[Any] = [list(r) for r in references]
            return float(fn(list(predictions), golds))
        preds = [_decode(p) for p in predictions]
        golds = [_decode(r[0]) for r in references]
        if name in ("seg_f1", "seg_pos_f1"):
            golds = [{"references": [_decode(x) for x in r]} for r in references]
        return float(fn(preds, golds))

    return corpus


def _metric(name: str, summary: str, needs_gold: bool = True) -> Callable[[Fn], Fn]:
    """Register ``fn`` (structured, 0-1) in core's registry as a :class:`CUGEMetric`."""

    def deco(fn: Fn) -> Fn:
        corpus = _string_corpus(name, fn)

        def item(prediction: str, references: Sequence[str]) -> float:
            return corpus([prediction], [references])

        text = f"[cuge] {summary}"
        metric = CUGEMetric(name, item, True, (0.0, 1.0), text, corpus, fn, needs_gold)
        registry.register(name, metric, summary=text, system="cuge")
        setattr(CORE, name, metric)
        return fn

    return deco


def _pair(preds: Sequence[Any], golds: Sequence[Any], name: str) -> None:
    if len(preds) != len(golds):
        raise DataError(f"{name}: {len(preds)} predictions but {len(golds)} gold items")
    if not preds:
        raise DataError(f"{name}: nothing to score")


def _prf(tp: float, n_pred: float, n_gold: float, beta: float = 1.0) -> float:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    if p + r == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r)


# -- segmentation and tagging --------------------------------------------------------------
def as_tokens(value: Any) -> list[str]:
    """A word list from a list or a whitespace-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(w, str) for w in value):
        return [w for w in value if w.strip()]
    raise DataError(f"expected a list of words or a string, got {value!r:.80}")


def as_tagged(value: Any) -> list[tuple[str, str]]:
    """``[(word, tag)]`` from ``[[w, t], ...]`` or the PKU string ``"w/t  w/t"``."""
    out = []
    if isinstance(value, str):
        for item in value.split():
            word, sep, tag = item.rpartition("/")
            if not sep or not word:
                raise DataError(f"expected word/TAG, got {item!r}")
            out.append((word, tag))
        return out
    if isinstance(value, list):
        for item in value:
            if not (
                isinstance(item, list | tuple)
                and len(item) == 2
                and all(isinstance(x, str) for x in item)
            ):
                raise DataError(f"expected [word, tag] pairs, got {item!r:.80}")
            out.append((item[0], item[1]))
        return out
    raise DataError(f"expected tagged words, got {value!r:.80}")


def _spans(words: Sequence[str], tags: Sequence[str] | None = None) -> Counter[tuple[Any, ...]]:
    out: Counter[tuple[Any, ...]] = Counter()
    pos = 0
    for i, w in enumerate(words):
        end = pos + len(w)
        out[(pos, end, tags[i]) if tags is not None else (pos, end)] += 1
        pos = end
    return out


def _best_reference(gold: Any) -> list[Any]:
    """A gold item may be ``{"references": [...]}`` (several correct answers)."""
    if isinstance(gold, dict) and "references" in gold:
        refs = gold["references"]
        if not isinstance(refs, list) or not refs:
            raise DataError("'references' must be a non-empty list")
        return list(refs)
    return [gold]


def _span_f1(preds: Sequence[Any], golds: Sequence[Any], tagged: bool, name: str) -> float:
    _pair(preds, golds, name)
    tp = n_pred = n_gold = 0
    for pred, gold in zip(preds, golds):
        if tagged:
            p_items = as_tagged(pred)
            p = _spans([w for w, _ in p_items], [t for _, t in p_items])
        else:
            p = _spans(as_tokens(pred))
        best = None
        for ref in _best_reference(gold):
            if tagged:
                g_items = as_tagged(ref)
                g = _spans([w for w, _ in g_items], [t for _, t in g_items])
            else:
                g = _spans(as_tokens(ref))
            hit = sum((p & g).values())
            cand = (_prf(hit, sum(p.values()), sum(g.values())), hit, sum(g.values()))
            if best is None or cand[0] > best[0]:
                best = cand
        assert best is not None
        tp += best[1]
        n_pred += sum(p.values())
        n_gold += best[2]
    return _prf(tp, n_pred, n_gold)


@_metric("seg_f1", "word segmentation F1 over character spans, micro over the corpus")
def seg_f1(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _span_f1(preds, golds, False, "seg_f1")


@_metric("seg_pos_f1", "segmentation + POS F1: a word counts when span and tag both match")
def seg_pos_f1(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _span_f1(preds, golds, True, "seg_pos_f1")


# -- sets: entities, relations, evidences ----------------------------------------------------
def _as_set(value: Any, exclude: frozenset[str] = frozenset()) -> set[Hashable]:
    if value is None:
        return set()
    if not isinstance(value, list):
        raise DataError(f"expected a list, got {value!r:.80}")
    out: set[Hashable] = set()
    for item in value:
        key = tuple(item) if isinstance(item, list) else item
        if isinstance(key, tuple) and key and str(key[-1]) in exclude:
            continue
        if not isinstance(key, Hashable) or isinstance(key, dict):
            raise DataError(f"set items must be scalars or lists, got {item!r:.80}")
        out.add(key)
    return out


def _set_f1(
    preds: Sequence[Any], golds: Sequence[Any], name: str, exclude: frozenset[str] = frozenset()
) -> float:
    _pair(preds, golds, name)
    tp = n_pred = n_gold = 0
    for pred, gold in zip(preds, golds):
        p, g = _as_set(pred, exclude), _as_set(gold, exclude)
        tp += len(p & g)
        n_pred += len(p)
        n_gold += len(g)
    if n_pred == 0 and n_gold == 0:
        return 1.0
    return _prf(tp, n_pred, n_gold)


@_metric("set_f1", "micro F1 of predicted vs gold item sets (e.g. evidence sentences)")
def set_f1(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _set_f1(preds, golds, "set_f1")


@_metric("entity_f1", "NER micro F1: exact (start, end, type) match")
def entity_f1(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _set_f1(preds, golds, "entity_f1")


@_metric("relation_f1", "relation micro F1: exact (head, tail, relation); NA is no relation")
def relation_f1(preds: Sequence[Any], golds: Sequence[Any], na: str = "NA") -> float:
    return _set_f1(preds, golds, "relation_f1", frozenset({na}))


# -- classification and choice ---------------------------------------------------------------
def as_choice(value: Any) -> int:
    """An option index from an int, a digit string or a letter (A = 0)."""
    if isinstance(value, bool):
        raise DataError(f"expected an option index or letter, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if text.isdigit():
            return int(text)
        if len(text) == 1 and text.upper() in "ABCDEFGHIJ":
            return ord(text.upper()) - ord("A")
    raise DataError(
        f"expected an option index (0, 1, ...) or letter (A, B, ...), got {value!r:.40}"
    )


@_metric("choice_accuracy", "multiple-choice accuracy (index or letter)")
def choice_accuracy(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    _pair(preds, golds, "choice_accuracy")
    return sum(as_choice(p) == as_choice(g) for p, g in zip(preds, golds)) / len(golds)


@_metric("label_accuracy", "classification accuracy: label equality after stripping spaces")
def label_accuracy(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    _pair(preds, golds, "label_accuracy")
    hits = sum(str(p).strip() == str(g).strip() for p, g in zip(preds, golds))
    return hits / len(golds)


@_metric("binary_f1", "F1 of the positive class of a binary label")
def binary_f1(preds: Sequence[Any], golds: Sequence[Any], positive: str = "1") -> float:
    _pair(preds, golds, "binary_f1")
    p = [str(x).strip() == positive for x in preds]
    g = [str(x).strip() == positive for x in golds]
    tp = sum(a and b for a, b in zip(p, g))
    return _prf(tp, sum(p), sum(g))


# -- retrieval and ranking -----------------------------------------------------------------
def as_ranking(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(x, str | int) for x in value):
        return [str(x) for x in value]
    raise DataError(f"expected a ranked list of ids/words, got {value!r:.80}")


@_metric("accuracy_at_k", "accuracy@k: a gold answer is among the top k of the ranking")
def accuracy_at_k(preds: Sequence[Any], golds: Sequence[Any], k: int = 1) -> float:
    _pair(preds, golds, "accuracy_at_k")
    hits = 0
    for pred, gold in zip(preds, golds):
        gold_set = {str(g) for g in (gold if isinstance(gold, list) else [gold])}
        hits += bool(gold_set & set(as_ranking(pred)[:k]))
    return hits / len(golds)


def _gains(gold: Any) -> dict[str, float]:
    if isinstance(gold, dict):
        try:
            return {str(k): float(v) for k, v in gold.items()}
        except (TypeError, ValueError):
            raise DataError(f"relevances must be numbers, got {gold!r:.80}") from None
    if isinstance(gold, list):  # a plain list of relevant ids: relevance 1 each
        return {str(k): 1.0 for k in gold}
    raise DataError(f"expected {{doc id: relevance}} or a list of relevant ids, got {gold!r:.80}")


@_metric("ndcg_at_k", "nDCG@k with gains 2^rel - 1, mean over queries with a relevant document")
def ndcg_at_k(preds: Sequence[Any], golds: Sequence[Any], k: int = 10) -> float:
    _pair(preds, golds, "ndcg_at_k")
    total, n = 0.0, 0
    for pred, gold in zip(preds, golds):
        rel = _gains(gold)
        ideal = sorted(rel.values(), reverse=True)[:k]
        idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
        if idcg <= 0:
            continue  # a query without relevant documents has no defined nDCG
        seen: set[str] = set()
        dcg = 0.0
        for i, doc in enumerate(as_ranking(pred)[:k]):
            if doc in seen:
                continue  # listing a document twice must not earn its gain twice
            seen.add(doc)
            dcg += (2 ** rel.get(doc, 0.0) - 1) / math.log2(i + 2)
        total += dcg / idcg
        n += 1
    return total / n if n else 0.0


# -- text --------------------------------------------------------------------------------------
def _as_refs(gold: Any) -> list[str]:
    if isinstance(gold, str):
        return [gold]
    if isinstance(gold, list) and gold and all(isinstance(g, str) for g in gold):
        return list(gold)
    if isinstance(gold, dict) and "references" in gold:
        return _as_refs(gold["references"])
    raise DataError(f"expected a reference string or a list of them, got {gold!r:.80}")


def _as_text(pred: Any) -> str:
    if not isinstance(pred, str):
        raise DataError(f"expected text, got {pred!r:.80}")
    return pred


def normalize_zh(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, no punctuation, symbols or spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


@_metric("em_zh", "exact match after NFKC, lower case and removal of punctuation/space")
def em_zh(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    _pair(preds, golds, "em_zh")
    hits = 0
    for pred, gold in zip(preds, golds):
        p = normalize_zh(_as_text(pred))
        hits += any(p == normalize_zh(r) for r in _as_refs(gold))
    return hits / len(golds)


def _chars(text: str) -> list[str]:
    return [ch for ch in text if not ch.isspace()]


def _ngrams(seq: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(seq[i : i + n]) for i in range(len(seq) - n + 1))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _rouge_item(pred: str, ref: str, n: int | None) -> float:
    p, r = _chars(pred), _chars(ref)
    if n is None:
        hit, n_p, n_r = _lcs(p, r), len(p), len(r)
    else:
        pc, rc = _ngrams(p, n), _ngrams(r, n)
        hit, n_p, n_r = sum((pc & rc).values()), sum(pc.values()), sum(rc.values())
    return _prf(hit, n_p, n_r)


def _rouge(preds: Sequence[Any], golds: Sequence[Any], n: int | None, name: str) -> float:
    _pair(preds, golds, name)
    total = 0.0
    for pred, gold in zip(preds, golds):
        text = _as_text(pred)
        total += max(_rouge_item(text, ref, n) for ref in _as_refs(gold))
    return total / len(golds)


@_metric("rouge_l_zh", "character-level ROUGE-L F1, best reference per item, mean over items")
def rouge_l_zh(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _rouge(preds, golds, None, "rouge_l_zh")


@_metric("rouge_1_zh", "character-level ROUGE-1 F1, best reference per item")
def rouge_1_zh(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _rouge(preds, golds, 1, "rouge_1_zh")


@_metric("rouge_2_zh", "character-level ROUGE-2 F1, best reference per item")
def rouge_2_zh(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return _rouge(preds, golds, 2, "rouge_2_zh")


@_metric("bleu_zh", "corpus BLEU-4 from sacrebleu with its 'zh' tokenizer")
def bleu_zh(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    _pair(preds, golds, "bleu_zh")
    sacrebleu = require("sacrebleu", "cuge", "the bleu_zh metric")
    hyps = [_as_text(p) for p in preds]
    refs = [_as_refs(g) for g in golds]
    width = max(len(r) for r in refs)
    # sacrebleu wants equally many reference streams; repeating a reference changes nothing
    # (clipped counts and the closest reference length are the same).
    streams = [[r[i] if i < len(r) else r[0] for r in refs] for i in range(width)]
    return float(sacrebleu.corpus_bleu(hyps, streams, tokenize="zh").score) / 100.0  # 0-100 there


def _distinct(preds: Sequence[Any], n: int) -> float:
    if not preds:
        raise DataError(f"distinct_{n}: nothing to score")
    grams: Counter[tuple[str, ...]] = Counter()
    for pred in preds:
        grams.update(_ngrams(_chars(_as_text(pred)), n))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


@_metric("distinct_1", "Distinct-1: unique / all character unigrams over all outputs", False)
def distinct_1(preds: Sequence[Any], golds: Sequence[Any] | None = None) -> float:
    return _distinct(preds, 1)


@_metric("distinct_2", "Distinct-2: unique / all character bigrams over all outputs", False)
def distinct_2(preds: Sequence[Any], golds: Sequence[Any] | None = None) -> float:
    return _distinct(preds, 2)


# -- grammatical error correction -----------------------------------------------------------
def char_edits(source: str, target: str) -> set[tuple[int, int, str]]:
    """Character edits turning ``source`` into ``target``: ``(start, end, replacement)``."""
    matcher = difflib.SequenceMatcher(None, source, target, autojunk=False)
    return {
        (i1, i2, target[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    }


def _gec_source(gold: Any) -> tuple[str, list[str]]:
    if not (isinstance(gold, dict) and isinstance(gold.get("source"), str)):
        raise DataError(f"a GEC gold item needs 'source' and 'references', got {gold!r:.80}")
    return gold["source"], _as_refs(gold.get("references") or [gold["source"]])


def gec_f(preds: Sequence[Any], golds: Sequence[Any], beta: float = 0.5) -> float:
    """Corpus edit F_beta; per sentence the reference that maximises F_beta is used."""
    _pair(preds, golds, "gec_f")
    tp = fp = fn = 0
    for pred, gold in zip(preds, golds):
        source, refs = _gec_source(gold)
        hyp = char_edits(source, _as_text(pred))
        best: tuple[float, int, int, int] | None = None
        for ref in refs:
            gold_edits = char_edits(source, ref)
            t, f, n = len(hyp & gold_edits), len(hyp - gold_edits), len(gold_edits - hyp)
            p = t / (t + f) if t + f else 1.0
            r = t / (t + n) if t + n else 1.0
            score = (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0
            cand = (score, t, -f, -n)
            if best is None or cand > best:
                best = cand
        assert best is not None
        tp, fp, fn = tp + best[1], fp - best[2], fn - best[3]
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


@_metric("gec_f1", "GEC character-edit F1 against the best reference (CUGE report)")
def gec_f1(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return gec_f(preds, golds, beta=1.0)


@_metric("gec_f05", "GEC character-edit F0.5 against the best reference (CCL-2022 YACLC)")
def gec_f05(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    return gec_f(preds, golds, beta=0.5)


# -- math ------------------------------------------------------------------------------------
_OPS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?%?")


def _eval(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return Fraction(str(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        right = _eval(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ZeroDivisionError
        return Fraction(_OPS[type(node.op)](_eval(node.left), right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return Fraction(_OPS[type(node.op)](_eval(node.operand)))
    raise ValueError("not arithmetic")


def parse_number(value: Any) -> float | None:
    """A number from a prediction: a number, an arithmetic expression, or the last number in text.

    Handles full-width digits, fractions (``1/3``), percentages (``50%`` -> 0.5) and
    ``x=...`` prefixes. Returns None when no number is found.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).replace(",", "").replace("×", "*")
    text = text.replace("÷", "/").strip().rstrip("。.")
    expr = re.sub(r"^\s*[a-zA-Z]\s*=", "", text).strip()
    percent = expr.endswith("%")
    try:
        result = _eval(ast.parse(expr.rstrip("%"), mode="eval"))
        return float(result / 100 if percent else result)
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError, RecursionError):
        pass
    found = _NUMBER.findall(text)
    if not found:
        return None
    last = found[-1].replace(" ", "")
    percent = last.endswith("%")
    last = last.rstrip("%")
    try:
        num = Fraction(last) if "/" not in last else Fraction(*map(Fraction, last.split("/")))
    except (ValueError, ZeroDivisionError):
        return None
    return float(num / 100 if percent else num)


@_metric("math_accuracy", "numeric answer equality (|a - b| <= 1e-4 or relative 1e-6)")
def math_accuracy(preds: Sequence[Any], golds: Sequence[Any]) -> float:
    _pair(preds, golds, "math_accuracy")
    hits = 0
    for pred, gold in zip(preds, golds):
        p, g = parse_number(pred), parse_number(gold)
        if g is None:
            raise DataError(f"math_accuracy: gold answer {gold!r} is not a number")
        hits += p is not None and math.isclose(p, g, rel_tol=1e-6, abs_tol=1e-4)
    return hits / len(golds)


# -- lookups ---------------------------------------------------------------------------------
def cuge_metric_names() -> list[str]:
    """The registered metrics that score CUGE's structured items."""
    return sorted(vars(CORE))


def get_cuge_metric(name: str) -> CUGEMetric:
    """The registered CUGE metric; unknown names raise UnknownNameError with suggestions."""
    metric = getattr(CORE, name, None)
    if not isinstance(metric, CUGEMetric):
        raise UnknownNameError("CUGE metric", name, cuge_metric_names())
    return metric


def score_metric(name: str, preds: Sequence[Any], golds: Sequence[Any], **params: Any) -> float:
    """One CUGE metric in percent (``100 *`` the registered 0-1 score)."""
    return 100.0 * float(get_cuge_metric(name).score(preds, golds, **params))
