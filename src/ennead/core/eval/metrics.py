"""Per-item text metrics in a registry, and their corpus-level score.

A :class:`Metric` compares one prediction with a list of gold references and returns a float;
with several references the best match counts (the max), as in SQuAD and the DDR evaluation.
:func:`corpus_score` averages items, or calls the metric's own corpus function where one is
defined (BLEU-like metrics that are not a mean of item scores).

>>> get_metric("exact_match")("The Eiffel Tower!", ["eiffel tower"])
1.0
>>> round(corpus_score(["a cat sat", "dog"], [["the cat sat down"], ["cat"]], "token_f1"), 4)
0.4
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ennead.core.errors import DataError
from ennead.core.imports import require
from ennead.core.registry import Registry

ItemFn = Callable[[str, Sequence[str]], float]
CorpusFn = Callable[[Sequence[str], Sequence[Sequence[str]]], float]


@dataclass(frozen=True)
class Metric:
    """A named metric.

    ``fn(prediction, references) -> float`` scores one item. ``corpus_fn`` (optional) scores a
    whole corpus at once; without it the corpus score is the mean of item scores.
    ``range`` is the (low, high) the score can take; ``higher_is_better`` says which way is good.
    """

    name: str
    fn: ItemFn
    higher_is_better: bool = True
    range: tuple[float, float] = (0.0, 1.0)
    summary: str = ""
    corpus_fn: CorpusFn | None = None

    def __call__(self, prediction: str, references: Sequence[str] | str) -> float:
        refs = check_item(prediction, references, self.name)
        return float(self.fn(prediction, refs))


metrics: Registry[Metric] = Registry("metric")


def check_item(prediction: Any, references: Any, metric: str = "metric") -> list[str]:
    """Validate one (prediction, references) pair; a bare string counts as one reference."""
    if not isinstance(prediction, str):
        raise DataError(f"{metric}: prediction must be a string, got {type(prediction).__name__}")
    if isinstance(references, str):
        return [references]
    if not isinstance(references, Sequence):
        raise DataError(
            f"{metric}: references must be a list of strings, got {type(references).__name__}"
        )
    if len(references) == 0:
        raise DataError(f"{metric}: no reference answers given; at least one is required")
    for ref in references:
        if not isinstance(ref, str):
            raise DataError(f"{metric}: every reference must be a string, got {ref!r}")
    return list(references)


def register_metric(
    name: str,
    *,
    summary: str,
    higher_is_better: bool = True,
    range: tuple[float, float] = (0.0, 1.0),
    corpus_fn: CorpusFn | None = None,
    per_reference: bool = True,
) -> Callable[[Callable[..., float]], Metric]:
    """Decorator: register a metric function and return its :class:`Metric`.

    With ``per_reference`` (the default) the function compares the prediction with *one*
    reference and the metric takes the max over references; otherwise it receives the list.
    """

    def deco(fn: Callable[..., float]) -> Metric:
        item_fn: ItemFn
        if per_reference:

            def item_fn(prediction: str, references: Sequence[str]) -> float:
                return max(float(fn(prediction, ref)) for ref in references)

            functools.update_wrapper(item_fn, fn)
        else:
            item_fn = fn
        metric = Metric(name, item_fn, higher_is_better, range, summary, corpus_fn)
        metrics.register(name, metric, summary=summary, higher_is_better=higher_is_better)
        return metric

    return deco


def get_metric(name: str | Metric) -> Metric:
    """The registered metric (unknown names raise UnknownNameError with suggestions)."""
    if isinstance(name, Metric):
        return name
    metric = metrics.get(name)
    if not isinstance(metric, Metric):
        raise TypeError(f"metric {name!r} did not register a Metric (got {type(metric).__name__})")
    return metric


def _check_corpus(
    predictions: Sequence[str], references_list: Sequence[Sequence[str] | str], name: str
) -> None:
    if isinstance(predictions, str) or isinstance(references_list, str):
        raise DataError(f"{name}: predictions and references_list must be lists, one per item")
    if len(predictions) != len(references_list):
        raise DataError(
            f"{name}: {len(predictions)} predictions but {len(references_list)} reference lists; "
            "they must pair up one to one"
        )
    if len(predictions) == 0:
        raise DataError(f"{name}: nothing to score (no predictions)")


def item_scores(
    predictions: Sequence[str],
    references_list: Sequence[Sequence[str] | str],
    metric: str | Metric,
) -> list[float]:
    """The per-item scores; errors name the item index."""
    m = get_metric(metric)
    _check_corpus(predictions, references_list, m.name)
    out = []
    for i, (pred, refs) in enumerate(zip(predictions, references_list, strict=True)):
        try:
            out.append(m(pred, refs))
        except DataError as exc:
            raise DataError(f"item {i}: {exc}") from None
    return out


def corpus_score(
    predictions: Sequence[str],
    references_list: Sequence[Sequence[str] | str],
    metric: str | Metric,
) -> float:
    """Score a whole corpus: the metric's ``corpus_fn`` if it has one, else the item mean."""
    m = get_metric(metric)
    if m.corpus_fn is not None:
        _check_corpus(predictions, references_list, m.name)
        refs = [check_item(p, r, m.name) for p, r in zip(predictions, references_list, strict=True)]
        return float(m.corpus_fn(predictions, refs))
    scores = item_scores(predictions, references_list, m)
    return math.fsum(scores) / len(scores)


def evaluate(
    predictions: Sequence[str],
    references_list: Sequence[Sequence[str] | str],
    names: Sequence[str | Metric] = ("exact_match", "token_f1"),
) -> dict[str, float]:
    """Several corpus scores at once: ``{metric name: score}``."""
    out = {}
    for name in names:
        m = get_metric(name)
        out[m.name] = corpus_score(predictions, references_list, m)
    return out


# -- text normalisation ----------------------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, drop ASCII punctuation and a/an/the, squeeze spaces.

    Kept identical to the SQuAD v1.1 script so numbers compare with published ones; non-ASCII
    punctuation (such as Chinese full stops) is therefore kept.
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


# -- metrics ---------------------------------------------------------------------------------
@register_metric(
    "exact_match",
    summary="1 if the SQuAD-normalised prediction equals a normalised reference, else 0",
)
def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


@register_metric(
    "substring_accuracy",
    summary="1 if a normalised reference occurs in the normalised prediction (DDR/FlashRAG acc)",
)
def substring_accuracy(prediction: str, reference: str) -> float:
    gold, pred = normalize_answer(reference), normalize_answer(prediction)
    # An answer that normalises to nothing ("the") would otherwise match every prediction.
    if not gold:
        return float(not pred)
    return float(gold in pred)


@register_metric("token_f1", summary="SQuAD token-overlap F1 after normalisation")
def token_f1(prediction: str, reference: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not gold:
        # SQuAD v2 convention: two empty answers agree fully, one empty answer scores 0.
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


@functools.lru_cache(maxsize=1)
def _rouge_l_scorer() -> Any:
    rouge_scorer = require("rouge_score.rouge_scorer", "eval", "the rouge_l metric")
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


@register_metric(
    "rouge_l",
    summary="ROUGE-L F-measure (longest common subsequence of tokens; rouge-score library)",
)
def rouge_l(prediction: str, reference: str) -> float:
    # rouge-score keeps only [a-z0-9] tokens: text in other scripts scores 0 (use a char metric).
    return float(_rouge_l_scorer().score(reference, prediction)["rougeL"].fmeasure)


@register_metric("accuracy", summary="1 if the label equals a reference after stripping spaces")
def accuracy(prediction: str, reference: str) -> float:
    return float(prediction.strip() == reference.strip())
