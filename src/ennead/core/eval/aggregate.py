"""Hierarchical aggregation of scores: a tree of named nodes, scores on the leaves.

CUGE uses it as capability -> task -> dataset -> index, the cross-system tour as
toolkit -> system -> task -> metric. Each node may carry

- ``weight`` (> 0, default 1): its say in its parent's weighted rules;
- ``baseline`` (> 0): normalise its value to ``100 * value / baseline`` (``100 * baseline /
  value`` when ``higher_is_better`` is false), so the baseline scores 100;
- ``rule``: how its children combine, overriding the global rule.

Rules: ``mean`` (arithmetic, ignores weights), ``weighted`` (weighted arithmetic), ``harmonic``
and ``geometric`` (both weighted; with the default weights of 1 they are the plain means).

Every node reports ``score`` (normalised where baselines apply) and ``raw`` (the same rule over
the children's un-normalised values; for leaves, the score given), so reports can show both, as
the CUGE site does.

``higher_is_better: false`` belongs on leaves. Such a leaf needs a baseline before it can be
combined with higher-is-better siblings; mixing directions un-normalised is an error, not a
silently meaningless average.

>>> tree = Node.from_dict({"name": "index", "children": {
...     "nlu": {"children": {"c3": {"baseline": 40.0}, "ccpm": {"baseline": 80.0}}},
...     "nlg": {"children": {"lcsts": {"baseline": 30.0}}}}})
>>> result = aggregate(tree, {"c3": 60.0, "ccpm": 80.0, "lcsts": 33.0})
>>> round(result.score, 2), round(result["index/nlu"].score, 2)
(117.5, 125.0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ennead.core.errors import ConfigError, DataError

SEP = "/"
_OPTIONS = ("name", "children", "weight", "baseline", "rule", "higher_is_better", "meta")


# -- rules ------------------------------------------------------------------------------------
class _Undefined(ValueError):
    """A rule is not defined for these values (negative input to a harmonic/geometric mean)."""


def _mean(values: Sequence[float], weights: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _weighted(values: Sequence[float], weights: Sequence[float]) -> float:
    return math.fsum(w * v for v, w in zip(values, weights, strict=True)) / math.fsum(weights)


def _positive_or_zero(values: Sequence[float], rule: str) -> bool:
    """True when a zero makes the mean zero; raises for negative values."""
    if any(v < 0 for v in values):
        raise _Undefined(f"the {rule} mean needs scores >= 0")
    return any(v == 0 for v in values)


def _harmonic(values: Sequence[float], weights: Sequence[float]) -> float:
    if _positive_or_zero(values, "harmonic"):
        return 0.0
    return math.fsum(weights) / math.fsum(w / v for v, w in zip(values, weights, strict=True))


def _geometric(values: Sequence[float], weights: Sequence[float]) -> float:
    if _positive_or_zero(values, "geometric"):
        return 0.0
    logs = math.fsum(w * math.log(v) for v, w in zip(values, weights, strict=True))
    return math.exp(logs / math.fsum(weights))


RULES: dict[str, Callable[[Sequence[float], Sequence[float]], float]] = {
    "mean": _mean,
    "weighted": _weighted,
    "harmonic": _harmonic,
    "geometric": _geometric,
}


def _check_rule(rule: Any, where: str) -> str:
    if rule not in RULES:
        close = difflib.get_close_matches(str(rule), RULES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{where}unknown rule {rule!r}{hint} Known: {', '.join(RULES)}.")
    return str(rule)


# -- the tree ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """One node of a score tree; a node without children is a leaf that receives a score."""

    name: str
    children: tuple[Node, ...] = ()
    weight: float = 1.0
    baseline: float | None = None
    rule: str | None = None
    higher_is_better: bool = True
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """``(path, node)`` for this node and every descendant, parents first."""
        path = f"{prefix}{SEP}{self.name}" if prefix else self.name
        yield path, self
        for child in self.children:
            yield from child.walk(path)

    def leaf_paths(self) -> list[str]:
        return [p for p, n in self.walk() if n.is_leaf]

    def to_dict(self) -> dict[str, Any]:
        """The explicit spec form, accepted back by :meth:`from_dict`."""
        out: dict[str, Any] = {"name": self.name}
        if self.weight != 1.0:
            out["weight"] = self.weight
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.rule is not None:
            out["rule"] = self.rule
        if not self.higher_is_better:
            out["higher_is_better"] = False
        if self.meta:
            out["meta"] = dict(self.meta)
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Node:
        """Build a tree from a nested dict (as read from YAML or JSON).

        A node is ``{name, children, weight, baseline, rule, higher_is_better, meta}`` (all
        but ``name`` optional). ``children`` is a list of such nodes (a bare string is a leaf),
        or a mapping ``{child name: node options or null}``. The root may also be written as
        ``{root name: node options}``. Errors name the path of the bad node.
        """
        if not isinstance(spec, Mapping):
            raise ConfigError(f"a score tree must be a mapping, got {type(spec).__name__}")
        if "name" not in spec and len(spec) == 1:
            ((name, body),) = spec.items()
            if name not in _OPTIONS:
                return _parse(str(name), body, "")
        if "name" not in spec:
            raise ConfigError(
                "the root of a score tree needs a 'name' (or write it as {root_name: {...}})"
            )
        root = _parse(spec["name"], {k: v for k, v in spec.items() if k != "name"}, "")
        check_tree(root)
        return root


def _parse(name: Any, body: Any, parent: str) -> Node:
    if not isinstance(name, str) or not name or SEP in name:
        raise ConfigError(
            f"{parent or '(root)'}: a node name must be a non-empty string without '{SEP}', "
            f"got {name!r}"
        )
    path = f"{parent}{SEP}{name}" if parent else name
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise ConfigError(f"{path}: expected a mapping of node options, got {body!r}")
    unknown = [k for k in body if k not in _OPTIONS or k == "name"]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), _OPTIONS[1:], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}{hint}; allowed: {', '.join(_OPTIONS[1:])}"
        )
    raw_children = body.get("children") or ()
    children: list[Node] = []
    if isinstance(raw_children, Mapping):
        children = [_parse(k, v, path) for k, v in raw_children.items()]
    elif isinstance(raw_children, Sequence) and not isinstance(raw_children, str):
        for item in raw_children:
            if isinstance(item, str):
                children.append(_parse(item, None, path))
            elif isinstance(item, Mapping) and "name" in item:
                rest = {k: v for k, v in item.items() if k != "name"}
                children.append(_parse(item["name"], rest, path))
            else:
                raise ConfigError(
                    f"{path}: each child must be a name or a mapping with 'name', got {item!r}"
                )
    else:
        raise ConfigError(f"{path}: 'children' must be a list or a mapping, got {raw_children!r}")
    node = Node(
        name=name,
        children=tuple(children),
        weight=body.get("weight", 1.0),
        baseline=body.get("baseline"),
        rule=body.get("rule"),
        higher_is_better=body.get("higher_is_better", True),
        meta=dict(body.get("meta") or {}),
    )
    _check_node(node, path)
    return node


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_node(node: Node, path: str) -> None:
    if not isinstance(node.name, str) or not node.name or SEP in node.name:
        raise ConfigError(f"{path}: a node name must be a non-empty string without '{SEP}'")
    if not _is_number(node.weight) or not math.isfinite(node.weight) or node.weight <= 0:
        raise ConfigError(f"{path}: weight must be > 0 (got {node.weight!r})")
    if node.baseline is not None and (
        not _is_number(node.baseline) or not math.isfinite(node.baseline) or node.baseline <= 0
    ):
        raise ConfigError(f"{path}: baseline must be > 0 when given (got {node.baseline!r})")
    if node.rule is not None:
        _check_rule(node.rule, f"{path}: ")
    if not isinstance(node.higher_is_better, bool):
        raise ConfigError(f"{path}: higher_is_better must be true or false")
    if node.children and not node.higher_is_better:
        raise ConfigError(
            f"{path}: higher_is_better is set on leaves only; an inner node's direction "
            "follows its children"
        )
    seen: set[str] = set()
    for child in node.children:
        if child.name in seen:
            raise ConfigError(f"{path}: two children are named {child.name!r}")
        seen.add(child.name)


def check_tree(root: Node) -> None:
    """Validate every node; the error names the path of the first bad one."""
    for path, node in root.walk():
        _check_node(node, path)


def tree_from_scores(
    nested: Mapping[str, Any], name: str = "root", rule: str | None = None
) -> tuple[Node, dict[str, float | None]]:
    """Build a tree and its leaf scores from one nested mapping.

    A leaf is a number (or None for missing) or a mapping with ``score`` and optionally
    ``baseline``, ``weight``, ``higher_is_better``; any other mapping is an inner node.
    This is the shape of the tour's ``{system: {task: {metric: ...}}}``.
    """
    scores: dict[str, float | None] = {}

    def build(node_name: str, value: Any, parent: str) -> Node:
        path = f"{parent}{SEP}{node_name}" if parent else node_name
        if value is None or _is_number(value):
            scores[path] = value
            return Node(node_name)
        if isinstance(value, Mapping) and "score" in value:
            extra = {k: v for k, v in value.items() if k != "score"}
            node = _parse(node_name, extra, parent)
            scores[path] = value["score"]
            return node
        if isinstance(value, Mapping):
            children = tuple(build(str(k), v, path) for k, v in value.items())
            return Node(node_name, children)
        raise DataError(f"{path}: expected a number, a mapping with 'score', or a mapping")

    root = build(name, nested, "")
    if rule is not None:
        root = dataclasses.replace(root, rule=_check_rule(rule, f"{name}: "))
    check_tree(root)
    return root, scores


# -- results ----------------------------------------------------------------------------------
@dataclass
class NodeResult:
    """A node's outcome: ``score`` (normalised where a baseline applies) and ``raw``."""

    name: str
    path: str
    score: float
    raw: float | None
    weight: float = 1.0
    baseline: float | None = None
    rule: str | None = None
    higher_is_better: bool = True
    children: list[NodeResult] = field(default_factory=list)
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def depth(self) -> int:
        return self.path.count(SEP)

    def walk(self) -> Iterator[NodeResult]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "path": self.path,
            "score": self.score,
            "raw": self.raw,
            "weight": self.weight,
            "baseline": self.baseline,
            "higher_is_better": self.higher_is_better,
        }
        if self.meta:
            out["meta"] = dict(self.meta)
        if self.children:
            out["rule"] = self.rule
            out["children"] = [c.to_dict() for c in self.children]
        return out

    def row(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "depth": self.depth,
            "leaf": self.is_leaf,
            "score": self.score,
            "raw": self.raw,
            "baseline": self.baseline,
            "weight": self.weight,
            "rule": self.rule,
        }


@dataclass
class AggregationResult:
    """The drill-down: every kept node's score and its children, plus what was left out."""

    root: NodeResult
    rule: str
    missing: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.root.score

    @property
    def complete(self) -> bool:
        """False when selected leaves had no score (``missing="skip"``)."""
        return not self.missing

    def walk(self) -> Iterator[NodeResult]:
        return self.root.walk()

    def find(self, path: str) -> NodeResult:
        """The result at a full path (``index/nlu/c3``) or a path below the root (``nlu/c3``)."""
        for node in self.walk():
            if node.path == path or node.path == f"{self.root.name}{SEP}{path}":
                return node
        known = [n.path for n in self.walk()]
        close = difflib.get_close_matches(path, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"no node {path!r} in this result{hint}")

    __getitem__ = find

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per node, parents before children (for tables and CSV)."""
        return [n.row() for n in self.walk()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "rule": self.rule,
            "complete": self.complete,
            "missing": list(self.missing),
            "pruned": list(self.pruned),
            "tree": self.root.to_dict(),
        }


# -- aggregation ------------------------------------------------------------------------------
def _flatten(scores: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in scores.items():
        path = f"{prefix}{SEP}{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


def _resolver(root: Node, leaves_only: bool) -> Callable[[str], str | None]:
    """Map a key (full path, path below the root, or a unique name) to a full path."""
    paths = [p for p, n in root.walk() if n.is_leaf or not leaves_only]
    full = set(paths)
    by_name: dict[str, list[str]] = {}
    for p in paths:
        by_name.setdefault(p.rsplit(SEP, 1)[-1], []).append(p)

    def resolve(key: str) -> str | None:
        if key in full:
            return key
        below = f"{root.name}{SEP}{key}"
        if below in full:
            return below
        hits = by_name.get(key, [])
        if len(hits) > 1:
            raise DataError(f"{key!r} is ambiguous; write one of: {', '.join(hits)}")
        return hits[0] if hits else None

    return resolve


def _unknown(keys: Sequence[str], candidates: Iterable[str], what: str) -> DataError:
    cands = list(candidates)
    parts = []
    for key in keys:
        close = difflib.get_close_matches(key, cands, n=1)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return DataError(f"{what} not in the tree: {', '.join(parts)}")


def _normalise(raw: float, baseline: float | None, higher_is_better: bool, path: str) -> float:
    if baseline is None:
        return raw
    if higher_is_better:
        return 100.0 * raw / baseline
    if raw <= 0:
        raise DataError(
            f"{path}: a lower-is-better score of {raw!r} cannot be normalised as "
            "100 * baseline / score; it must be > 0"
        )
    return 100.0 * baseline / raw


def aggregate(
    root: Node,
    scores: Mapping[str, Any],
    *,
    rule: str = "mean",
    missing: Literal["error", "skip"] = "error",
    select: Iterable[str] | None = None,
) -> AggregationResult:
    """Combine leaf scores up the tree.

    ``scores`` maps leaves to raw values, keyed by full path, path below the root or unique
    leaf name (nested mappings are flattened with ``/``); ``None`` counts as missing.
    ``rule`` applies wherever a node sets none. ``select`` keeps only the leaves under the given
    nodes (a custom leaderboard); unselected leaves and emptied branches are pruned.
    ``missing="error"`` lists every selected leaf without a score; ``"skip"`` prunes them and
    records them in ``result.missing``.
    """
    check_tree(root)
    rule = _check_rule(rule, "")
    if missing not in ("error", "skip"):
        raise ConfigError(f"missing must be 'error' or 'skip', got {missing!r}")
    leaves = root.leaf_paths()

    resolve_leaf = _resolver(root, leaves_only=True)
    values: dict[str, float] = {}
    unknown = []
    for key, value in _flatten(scores).items():
        path = resolve_leaf(key)
        if path is None:
            unknown.append(key)
            continue
        if path in values:
            raise DataError(f"two scores given for {path} (one as {key!r})")
        if value is None:
            continue
        if not _is_number(value) or not math.isfinite(value):
            raise DataError(f"{path}: score must be a finite number, got {value!r}")
        values[path] = float(value)
    if unknown:
        raise _unknown(unknown, leaves, "scores given for leaves")

    selected = set(leaves)
    if select is not None:
        resolve_any = _resolver(root, leaves_only=False)
        chosen = [(key, resolve_any(key)) for key in select]
        bad = [key for key, path in chosen if path is None]
        if bad:
            raise _unknown(bad, (p for p, _ in root.walk()), "selected nodes")
        prefixes = [path for _, path in chosen if path]
        selected = {
            leaf for leaf in leaves if any(leaf == p or leaf.startswith(p + SEP) for p in prefixes)
        }

    lacking = [p for p in leaves if p in selected and p not in values]
    if lacking and missing == "error":
        raise DataError(
            f"no score for {len(lacking)} leaf/leaves: {', '.join(lacking)} "
            "(give them scores, narrow the selection, or use missing='skip')"
        )
    pruned: list[str] = []

    def visit(node: Node, path: str) -> NodeResult | None:
        if node.is_leaf:
            if path not in selected or path not in values:
                return None
            raw = values[path]
            return NodeResult(
                name=node.name,
                path=path,
                score=_normalise(raw, node.baseline, node.higher_is_better, path),
                raw=raw,
                weight=node.weight,
                baseline=node.baseline,
                # A baseline turns a lower-is-better value into a higher-is-better score.
                higher_is_better=node.higher_is_better or node.baseline is not None,
                meta=node.meta,
            )
        kids = [visit(c, f"{path}{SEP}{c.name}") for c in node.children]
        kept = [k for k in kids if k is not None]
        if not kept:
            pruned.append(path)
            return None
        directions = {k.higher_is_better for k in kept}
        if len(directions) > 1:
            low = [k.path for k in kept if not k.higher_is_better]
            raise DataError(
                f"{path}: cannot combine lower-is-better {', '.join(low)} with higher-is-better "
                "siblings; give those leaves a baseline so they are normalised first"
            )
        higher = directions.pop()
        node_rule = node.rule or rule
        fn = RULES[node_rule]
        weights = [k.weight for k in kept]
        try:
            agg = fn([k.score for k in kept], weights)
        except _Undefined as exc:
            detail = ", ".join(f"{k.path}={k.score:g}" for k in kept if k.score < 0)
            raise DataError(f"{path}: {exc} ({detail})") from None
        raws = [k.raw for k in kept]
        agg_raw: float | None = None
        if all(r is not None for r in raws):
            # Raw values on mixed scales may be negative; then only the score is defined.
            with contextlib.suppress(_Undefined):
                agg_raw = fn([r for r in raws if r is not None], weights)
        return NodeResult(
            name=node.name,
            path=path,
            score=_normalise(agg, node.baseline, higher, path),
            raw=agg_raw,
            weight=node.weight,
            baseline=node.baseline,
            rule=node_rule,
            higher_is_better=higher or node.baseline is not None,
            children=kept,
            meta=node.meta,
        )

    result = visit(root, root.name)
    if result is None:
        raise DataError(
            "nothing to aggregate: no selected leaf has a score "
            f"({len(selected)} selected, {len(values)} scored)"
        )
    # Record emptied branches at their highest point only.
    top = [p for p in pruned if not any(p.startswith(q + SEP) for q in pruned if q != p)]
    return AggregationResult(result, rule, lacking, sorted(top))
