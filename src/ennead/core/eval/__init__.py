"""Metrics (a registry with golden-value tests) and hierarchical aggregation.

- :mod:`~ennead.core.eval.metrics`: ``metrics`` registry of :class:`Metric` (``exact_match``,
  ``substring_accuracy``, ``token_f1``, ``rouge_l``, ``accuracy``); ``get_metric(name)`` with
  did-you-mean errors; ``corpus_score(predictions, references_list, metric)``.
- :mod:`~ennead.core.eval.aggregate`: a tree of :class:`Node` (weight, baseline, rule) and
  ``aggregate(tree, scores)`` -> :class:`AggregationResult` (drill-down, rows, dict); rules
  ``mean``, ``weighted``, ``harmonic``, ``geometric``; missing leaves as errors or skipped.
- :mod:`~ennead.core.eval.report`: :class:`Report` rendered as Markdown and as a
  self-contained HTML page: sections, tables from dict rows or ``{name: {column: value}}``,
  interval cells (``+5.20 [2.10, 8.30]``), the claims table, notes, and figures (matplotlib
  figures, line plots, interval plots) written to ``figures/``. Every system's report uses it.
- :mod:`~ennead.core.eval.stats` (import it directly; it loads numpy): paired bootstrap over
  items, bootstrap of a mean, pooled seeds, t-interval over seeds, all returning an ``Interval``.

>>> from ennead.core.eval import corpus_score
>>> corpus_score(["Paris", "rome"], [["paris"], ["Madrid", "Rome"]], "exact_match")
1.0

Importing this package is light; ``rouge_l`` loads ``rouge-score`` on first use
(``pip install 'ennead[eval]'``).
"""

from ennead.core.eval.aggregate import (
    AggregationResult,
    Node,
    NodeResult,
    aggregate,
    tree_from_scores,
)
from ennead.core.eval.metrics import (
    Metric,
    corpus_score,
    evaluate,
    get_metric,
    item_scores,
    metrics,
    normalize_answer,
    register_metric,
)
from ennead.core.eval.report import Report, render_html, render_markdown

__all__ = [
    "AggregationResult",
    "Metric",
    "Node",
    "NodeResult",
    "Report",
    "aggregate",
    "corpus_score",
    "evaluate",
    "get_metric",
    "item_scores",
    "metrics",
    "normalize_answer",
    "register_metric",
    "render_html",
    "render_markdown",
    "tree_from_scores",
]
