"""CUGE's multi-level scoring.

1. a dataset's raw metric scores ``p`` (percent) come from :func:`score_dataset`;
2. each metric is normalised by the baseline model's raw score ``b``: ``100 * p / b``;
3. a dataset's score is the (weighted) mean of its normalised metrics (the report is silent on
   multi-metric datasets; this is the spec's decision);
4. task = aggregate of its datasets, capability = aggregate of its tasks, index = aggregate of the
   capabilities, with one rule: ``mean`` (the report's documented rule and our default),
   ``weighted``, ``harmonic`` or ``geometric``.

Two implementations with one meaning: :func:`score_tree` builds a :class:`ennead.core.eval.Node`
tree for :func:`ennead.core.eval.aggregate` (drill-down of one submission), and
:class:`MatrixScorer` scores thousands of submissions at once with numpy (the leaderboard).
Tests check they agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ennead.core.errors import ConfigError, DataError
from ennead.core.eval.aggregate import RULES, AggregationResult, Node, aggregate
from ennead.cuge.benchmark import Benchmark, DatasetEntry
from ennead.cuge.metrics import score_metric

RawScores = Mapping[str, Mapping[str, float]]  # {dataset: {metric key: raw percent}}


# -- one dataset -------------------------------------------------------------------------------
def score_dataset(
    entry: DatasetEntry, predictions: Mapping[str, Any], gold: Sequence[Mapping[str, Any]]
) -> dict[str, float]:
    """Raw scores ``{metric key: percent}`` of one dataset.

    ``predictions`` maps item id to prediction; ``gold`` is the list of ``{id, answer}`` records
    (every gold id must have a prediction: see :mod:`ennead.cuge.submission` for validation).
    """
    missing = [g["id"] for g in gold if g["id"] not in predictions]
    if missing:
        raise DataError(
            f"{entry.id}: {len(missing)} item(s) without a prediction, e.g. {missing[:3]}"
        )
    preds = [predictions[g["id"]] for g in gold]
    answers = [g["answer"] for g in gold]
    out = {}
    for m in entry.spec.metrics:
        p, a = preds, answers
        if m.field is not None:
            p = [x.get(m.field) if isinstance(x, Mapping) else None for x in preds]
            a = [x.get(m.field) if isinstance(x, Mapping) else None for x in answers]
        try:
            out[m.key] = score_metric(m.name, p, a, **m.params)
        except DataError as exc:
            raise DataError(f"{entry.id}: {m.key}: {exc}") from None
    return out


# -- the selection --------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """Which datasets a board covers and how its nodes weigh.

    Filters of different kinds combine with AND, values of one kind with OR; no filter selects
    every dataset; a value given twice is an error that names it. ``weights`` maps capability,
    task, dataset ids (or ``dataset:metric``) to a weight > 0. Node weights (capability, task,
    dataset) are inputs of the weighted, harmonic and geometric rules; the ``mean`` rule takes
    none, so a board that gives them under ``mean`` is refused (see :func:`check_rule_weights`).
    ``dataset:metric`` weights combine one dataset's metrics, which is always a weighted mean,
    so they apply under every rule.
    """

    capabilities: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    labels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    lite: bool = False
    weights: tuple[tuple[str, float], ...] = ()

    @classmethod
    def make(
        cls,
        capabilities: Sequence[str] = (),
        tasks: Sequence[str] = (),
        datasets: Sequence[str] = (),
        labels: Mapping[str, str | Sequence[str]] | None = None,
        lite: bool = False,
        weights: Mapping[str, float] | None = None,
    ) -> Selection:
        lab = tuple(
            (k, (v,) if isinstance(v, str) else tuple(str(x) for x in v))
            for k, v in (labels or {}).items()
        )
        return cls(
            tuple(capabilities),
            tuple(tasks),
            tuple(datasets),
            lab,
            lite,
            tuple((k, float(v)) for k, v in (weights or {}).items()),
        )

    def resolve(self, bench: Benchmark) -> list[DatasetEntry]:
        """The selected datasets in registry order; unknown ids raise with suggestions."""
        caps = {c.id for c in bench.capabilities}
        tasks = {t.id for _, t in bench.tasks()}
        check_unique(self.capabilities, "capabilities")
        check_unique(self.tasks, "tasks")
        check_unique(self.datasets, "datasets")
        check_unique([k for k, _ in self.labels], "label keys")
        for key, values in self.labels:
            check_unique(values, f"labels.{key}")
        check_unique([k for k, _ in self.weights], "weights")
        _check_known(self.capabilities, caps, "capability")
        _check_known(self.tasks, tasks, "task")
        _check_known(self.datasets, set(bench.dataset_ids()), "dataset")
        label_keys = {k for d in bench.datasets() for k in d.labels}
        _check_known([k for k, _ in self.labels], label_keys, "label")
        chosen = []
        for d in bench.datasets():
            if self.capabilities and d.capability not in self.capabilities:
                continue
            if self.tasks and d.task not in self.tasks:
                continue
            if self.datasets and d.id not in self.datasets:
                continue
            if self.lite and not d.spec.lite:
                continue
            labels = d.labels
            if any(not set(values) & set(labels.get(key, [])) for key, values in self.labels):
                continue
            chosen.append(d)
        if not chosen:
            raise DataError(f"the selection matches no dataset: {self.describe()}")
        names = (
            caps | tasks | set(bench.dataset_ids()) | {f"{d}:{m}" for d, m in bench.metric_keys()}
        )
        _check_known([k for k, _ in self.weights], names, "weight key")
        for key, value in self.weights:
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"weight of {key!r} must be > 0, got {value}")
        return chosen

    def describe(self) -> str:
        parts = []
        for name in ("capabilities", "tasks", "datasets"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name}={','.join(values)}")
        parts += [f"label {k}={','.join(v)}" for k, v in self.labels]
        if self.lite:
            parts.append("lite")
        if self.weights:
            parts.append("weights " + ",".join(f"{k}={v:g}" for k, v in self.weights))
        return "; ".join(parts) or "all datasets"


def check_unique(values: Sequence[str], where: str) -> None:
    """Refuse a value given twice (``datasets: [C3, C3]``), naming it."""
    seen: set[str] = set()
    dupes = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if dupes:
        names = ", ".join(repr(d) for d in dict.fromkeys(dupes))
        raise ConfigError(f"{where}: {names} given more than once; list each id once")


NODE_WEIGHT_RULES = ("weighted", "harmonic", "geometric")


def check_rule_weights(
    rule: str, weights: Mapping[str, float] | Sequence[tuple[str, float]]
) -> None:
    """Node weights need a rule that uses them: refuse them under ``mean``, naming both."""
    items = weights.items() if isinstance(weights, Mapping) else weights
    nodes = [f"{k}: {v:g}" for k, v in items if ":" not in k]
    if rule == "mean" and nodes:
        raise ConfigError(
            f"weights {{{', '.join(nodes)}}} have no effect under aggregator 'mean' (a plain "
            f"mean); use aggregator 'weighted' (or 'harmonic', 'geometric'), which weigh "
            "capabilities, tasks and datasets, or drop the weights ('dataset:metric' weights "
            "apply under every rule)"
        )


def _check_known(keys: Sequence[str], known: set[str], kind: str) -> None:
    import difflib

    bad = [k for k in keys if k not in known]
    if bad:
        close = difflib.get_close_matches(bad[0], sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown {kind} {bad[0]!r}{hint}; known: {', '.join(sorted(known))}")


# -- the tree for core.eval.aggregate -----------------------------------------------------
@dataclass
class Layout:
    """The induced sub-tree of a selection, with baselines: what both scorers work on."""

    bench: Benchmark
    datasets: list[DatasetEntry]
    baselines: dict[str, dict[str, float]]
    weights: dict[str, float] = field(default_factory=dict)
    unnormalised: list[str] = field(default_factory=list)  # "dataset:metric" without baseline

    @classmethod
    def build(
        cls, bench: Benchmark, baselines: RawScores, selection: Selection | None = None
    ) -> Layout:
        selection = selection or Selection()
        chosen = selection.resolve(bench)
        weights = dict(selection.weights)
        base = {d: dict(v) for d, v in baselines.items()}
        kept, unnorm, lacking = [], [], []
        for d in chosen:
            have = [m.key for m in d.spec.metrics if base.get(d.id, {}).get(m.key, 0) > 0]
            unnorm += [f"{d.id}:{m.key}" for m in d.spec.metrics if m.key not in have]
            if have:
                kept.append(d)
            else:
                lacking.append(d.id)
        if lacking:
            raise DataError(
                f"no baseline score for {', '.join(lacking)}: a dataset can only be normalised "
                "against a baseline. Use a baseline table that covers them (--set "
                "baseline=FILE, a YAML/JSON {model, scores: {dataset: {metric: value}}}) or "
                "narrow the board to baselined datasets (--board lite, or --set board.lite=true)."
            )
        return cls(bench, kept, base, weights, unnorm)

    def metric_columns(self) -> list[tuple[str, str]]:
        """``(dataset, metric key)`` columns that have a baseline."""
        return [
            (d.id, m.key)
            for d in self.datasets
            for m in d.spec.metrics
            if self.baselines.get(d.id, {}).get(m.key, 0) > 0
        ]

    def metric_weight(self, dataset: str, key: str) -> float:
        spec = self.bench.dataset(dataset).spec
        m = next(m for m in spec.metrics if m.key == key)
        return m.weight * self.weights.get(f"{dataset}:{key}", 1.0)

    def node_weight(self, ident: str, own: float) -> float:
        return own * self.weights.get(ident, 1.0)

    def hierarchy(self) -> list[tuple[str, float, list[tuple[str, float, list[DatasetEntry]]]]]:
        """``[(capability, weight, [(task, weight, [datasets])])]`` of the induced tree."""
        chosen = {d.id for d in self.datasets}
        out = []
        for cap in self.bench.capabilities:
            tasks = []
            for task in cap.tasks:
                ds = [self.bench.dataset(d.id) for d in task.datasets if d.id in chosen]
                if ds:
                    tasks.append((task.id, self.node_weight(task.id, task.weight), ds))
            if tasks:
                out.append((cap.id, self.node_weight(cap.id, cap.weight), tasks))
        return out

    def tree(self, root: str = "index") -> Node:
        """The core tree: index -> capability -> task -> dataset -> metric (with baselines)."""
        caps = []
        for cap, cw, tasks in self.hierarchy():
            task_nodes = []
            for task, tw, ds in tasks:
                ds_nodes = []
                for d in ds:
                    leaves = tuple(
                        Node(
                            key,
                            weight=self.metric_weight(d.id, key),
                            baseline=self.baselines[d.id][key],
                        )
                        for did, key in self.metric_columns()
                        if did == d.id
                    )
                    w = self.node_weight(d.id, d.spec.weight)
                    ds_nodes.append(Node(d.id, leaves, weight=w, rule="weighted"))
                task_nodes.append(Node(task, tuple(ds_nodes), weight=tw))
            caps.append(Node(cap, tuple(task_nodes), weight=cw))
        return Node(root, tuple(caps))


def score_tree(bench: Benchmark, baselines: RawScores, selection: Selection | None = None) -> Node:
    return Layout.build(bench, baselines, selection).tree()


def drill_down(
    layout: Layout, raw: RawScores, rule: str = "mean", lenient: bool = False
) -> AggregationResult:
    """One submission's scores at every level, via :func:`ennead.core.eval.aggregate`."""
    check_rule_weights(rule, layout.weights)
    tree = layout.tree()
    paths = {}
    for cap, _, tasks in layout.hierarchy():
        for task, _, ds in tasks:
            for d in ds:
                for did, key in layout.metric_columns():
                    if did == d.id:
                        value = raw.get(d.id, {}).get(key)
                        paths[f"index/{cap}/{task}/{d.id}/{key}"] = value
    return aggregate(tree, paths, rule=rule, missing="skip" if lenient else "error")


# -- many submissions at once -----------------------------------------------------------------
def _combine(
    x: np.ndarray, parent: np.ndarray, weights: np.ndarray, n_parent: int, rule: str
) -> np.ndarray:
    """Combine child columns of ``x`` (submissions x children, NaN = missing) into parents."""
    w = weights if rule != "mean" else np.ones_like(weights)
    mat = np.zeros((x.shape[1], n_parent))
    mat[np.arange(x.shape[1]), parent] = w
    present = ~np.isnan(x)
    den = present.astype(float) @ mat
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule in ("mean", "weighted"):
            out = np.where(present, x, 0.0) @ mat / den
        else:
            if np.any(x[present] < 0):
                raise DataError(f"the {rule} mean needs scores >= 0")
            zero = (present & (x == 0)).astype(float) @ mat > 0
            safe = np.where(present & (x > 0), x, 1.0)
            if rule == "harmonic":
                out = den / (np.where(present, 1.0 / safe, 0.0) @ mat)
            else:
                out = np.exp((np.where(present, np.log(safe), 0.0) @ mat) / den)
            out = np.where(zero, 0.0, out)
    return np.where(den > 0, out, np.nan)


@dataclass
class Scored:
    """Scores of many submissions at every level (rows = submissions, NaN = not scored)."""

    metric_columns: list[tuple[str, str]]
    datasets: list[str]
    tasks: list[str]
    capabilities: list[str]
    metric_raw: np.ndarray
    dataset: np.ndarray
    dataset_raw: np.ndarray
    task: np.ndarray
    task_raw: np.ndarray
    capability: np.ndarray
    capability_raw: np.ndarray
    index: np.ndarray
    index_raw: np.ndarray
    complete: np.ndarray


class MatrixScorer:
    """Vectorised scoring of a layout: build once, score any number of submissions."""

    def __init__(self, layout: Layout, rule: str = "mean"):
        if rule not in RULES:
            raise ConfigError(f"unknown aggregator {rule!r}; known: {', '.join(RULES)}")
        check_rule_weights(rule, layout.weights)
        self.layout, self.rule = layout, rule
        self.columns = layout.metric_columns()
        hier = layout.hierarchy()
        self.datasets = [d.id for _, _, tasks in hier for _, _, ds in tasks for d in ds]
        self.tasks = [t for _, _, tasks in hier for t, _, _ in tasks]
        self.capabilities = [c for c, _, _ in hier]
        d_index = {d: i for i, d in enumerate(self.datasets)}
        self.base = np.array([layout.baselines[d][k] for d, k in self.columns])
        self.m_parent = np.array([d_index[d] for d, _ in self.columns])
        self.m_weight = np.array([layout.metric_weight(d, k) for d, k in self.columns])
        d_parent, d_weight, t_parent, t_weight, c_weight = [], [], [], [], []
        for ci, (_, cw, tasks) in enumerate(hier):
            c_weight.append(cw)
            for _, tw, ds in tasks:
                t_parent.append(ci)
                t_weight.append(tw)
                for d in ds:
                    d_parent.append(len(t_weight) - 1)
                    d_weight.append(layout.node_weight(d.id, d.spec.weight))
        self.d_parent, self.d_weight = np.array(d_parent), np.array(d_weight)
        self.t_parent, self.t_weight = np.array(t_parent), np.array(t_weight)
        self.c_weight = np.array(c_weight)

    def matrix(self, raws: Sequence[RawScores]) -> np.ndarray:
        """Raw metric matrix (submissions x metric columns), NaN where not given."""
        x = np.full((len(raws), len(self.columns)), np.nan)
        for i, raw in enumerate(raws):
            for j, (d, k) in enumerate(self.columns):
                v = raw.get(d, {}).get(k)
                if v is not None:
                    x[i, j] = v
        return x

    def score_matrix(self, x: np.ndarray) -> Scored:
        norm = 100.0 * x / self.base
        levels = []
        for values in (norm, x):
            ds = _combine(values, self.m_parent, self.m_weight, len(self.datasets), "weighted")
            # A dataset counts only when all its baselined metrics were given.
            full = (~np.isnan(values)).astype(int) @ _onehot(self.m_parent, len(self.datasets))
            ds = np.where(
                full == np.bincount(self.m_parent, minlength=len(self.datasets)), ds, np.nan
            )
            ts = _combine(ds, self.d_parent, self.d_weight, len(self.tasks), self.rule)
            cs = _combine(ts, self.t_parent, self.t_weight, len(self.capabilities), self.rule)
            ix = _combine(
                cs, np.zeros(len(self.capabilities), dtype=int), self.c_weight, 1, self.rule
            )[:, 0]
            levels.append((ds, ts, cs, ix))
        (ds, ts, cs, ix), (dr, tr, cr, ir) = levels
        complete = ~np.isnan(ds).any(axis=1)
        return Scored(
            self.columns,
            self.datasets,
            self.tasks,
            self.capabilities,
            x,
            ds,
            dr,
            ts,
            tr,
            cs,
            cr,
            ix,
            ir,
            complete,
        )

    def score(self, raws: Sequence[RawScores]) -> Scored:
        return self.score_matrix(self.matrix(raws))


def _onehot(parent: np.ndarray, n: int) -> np.ndarray:
    mat = np.zeros((len(parent), n), dtype=int)
    mat[np.arange(len(parent)), parent] = 1
    return mat


def normalised(raw: float, baseline: float) -> float:
    """``100 * p / b``; the baseline must be > 0."""
    if not baseline > 0:
        raise DataError(f"a baseline must be > 0 to normalise against, got {baseline}")
    return 100.0 * raw / baseline
