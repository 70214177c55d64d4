"""The benchmark as data: capability -> task -> dataset, metrics, labels, lite flag, baselines.

A registry is a versioned YAML file. :func:`load_benchmark` validates it against a pydantic
schema and reports the first problem with the path of the bad node, written with ids
(``capabilities[NLU-WSL].tasks[ner].datasets[CMeEE].metrics[0].name: ...``).

>>> bench = load_benchmark("cuge")
>>> len(bench.capabilities), len(bench.tasks()), len(bench.datasets()), len(bench.lite())
(7, 18, 21, 7)
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ennead.core.errors import ConfigError, UnknownNameError

FORMATS = (
    "tokens",  # list of words (or one space-separated string)
    "tagged_tokens",  # list of [word, tag] (or "word/tag word/tag")
    "choice",  # index of the chosen option (int), or its letter A-D
    "label",  # a class label (string)
    "spans",  # list of [start, end, type]
    "triples",  # list of [head, tail, relation]
    "ranking",  # list of ids / words, best first
    "text",  # free text
    "number",  # a number or a numeric string (fractions, percentages)
    "correction",  # the corrected sentence (gold carries the source and references)
    "record",  # a mapping of named fields, each scored by a metric with `field`
)
Format = Literal[
    "tokens",
    "tagged_tokens",
    "choice",
    "label",
    "spans",
    "triples",
    "ranking",
    "text",
    "number",
    "correction",
    "record",
]
LABEL_KEYS = ("capability", "task", "dataset", "domain", "format", "lite", "added", "languages")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricSpec(_Model):
    """One metric of a dataset."""

    name: str = Field(description="A metric in ennead.core.eval.metrics (CUGE's are registered).")
    weight: float = Field(1.0, gt=0, description="Its say in the dataset's normalised score.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments.")
    field: str | None = Field(None, description="For `record` datasets: the field it scores.")

    @property
    def key(self) -> str:
        """The column name of this metric's raw score (``name`` or ``name:field``)."""
        return f"{self.name}:{self.field}" if self.field else self.name


class DatasetSpec(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
    format: Format
    metrics: list[MetricSpec] = Field(min_length=1)
    name: str | None = None
    lite: bool = False
    sizes: list[float] | None = Field(None, description="train/dev/test sizes in thousands")
    domain: str | None = None
    added: str | None = None
    languages: str = "zh"
    note: str | None = None
    labels: dict[str, str | list[str]] = Field(default_factory=dict)
    template: str | None = Field(None, description="Prompt template id for LM runners.")
    weight: float = Field(1.0, gt=0)

    @field_validator("sizes")
    @classmethod
    def _three(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and len(v) != 3:
            raise ValueError("sizes must be [train, dev, test]")
        return v


class TaskSpec(_Model):
    id: str
    name: str
    datasets: list[DatasetSpec] = Field(min_length=1)
    weight: float = Field(1.0, gt=0)


class CapabilitySpec(_Model):
    id: str
    name: str
    tasks: list[TaskSpec] = Field(min_length=1)
    weight: float = Field(1.0, gt=0)


class BaselineTable(_Model):
    model: str
    source: str | None = None
    scores: dict[str, dict[str, float]]


class BenchmarkSpec(_Model):
    name: str
    version: str
    title: str = ""
    source: str = ""
    capabilities: list[CapabilitySpec] = Field(min_length=1)
    baselines: dict[str, BaselineTable] = Field(default_factory=dict)
    default_baseline: str | None = None
    reference_results: dict[str, dict[str, float]] = Field(default_factory=dict)
    templates: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset with its place in the hierarchy."""

    spec: DatasetSpec
    capability: str
    task: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def labels(self) -> dict[str, list[str]]:
        """Every label it can be selected by (built-in ones first, then the YAML's)."""
        s = self.spec
        out: dict[str, list[str]] = {
            "capability": [self.capability],
            "task": [self.task],
            "dataset": [s.id],
            "format": [s.format],
            "lite": ["true" if s.lite else "false"],
            "languages": [s.languages],
        }
        if s.domain:
            out["domain"] = [s.domain]
        if s.added:
            out["added"] = [s.added]
        for key, value in s.labels.items():
            out.setdefault(key, [])
            out[key].extend([value] if isinstance(value, str) else list(value))
        return out


def _path_of(raw: Any, loc: Iterable[Any]) -> str:
    """Turn a pydantic error location into ``capabilities[ID].tasks[ID]...`` using ids."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            elem = node[item] if item < len(node) else None
            ident = elem.get("id") if isinstance(elem, dict) else None
            parts[-1] += f"[{ident}]" if ident else f"[{item}]"
            node = elem
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(root)"


class Benchmark:
    """A validated registry; immutable; lookups raise UnknownNameError with suggestions."""

    def __init__(self, spec: BenchmarkSpec, source: str, text: str):
        self.spec, self.source = spec, source
        self.checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._datasets = {
            d.id: DatasetEntry(d, c.id, t.id)
            for c in spec.capabilities
            for t in c.tasks
            for d in t.datasets
        }

    # -- hierarchy ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def capabilities(self) -> list[CapabilitySpec]:
        return list(self.spec.capabilities)

    def tasks(self) -> list[tuple[str, TaskSpec]]:
        return [(c.id, t) for c in self.spec.capabilities for t in c.tasks]

    def datasets(self) -> list[DatasetEntry]:
        return list(self._datasets.values())

    def dataset_ids(self) -> list[str]:
        return list(self._datasets)

    def lite(self) -> list[DatasetEntry]:
        return [d for d in self._datasets.values() if d.spec.lite]

    def dataset(self, dataset_id: str) -> DatasetEntry:
        if dataset_id not in self._datasets:
            raise UnknownNameError(f"{self.name} dataset", dataset_id, self._datasets)
        return self._datasets[dataset_id]

    def baseline(self, name: str | None = None) -> BaselineTable:
        name = name or self.spec.default_baseline
        if name is None or name not in self.spec.baselines:
            raise UnknownNameError(
                f"{self.name} baseline table",
                str(name),
                self.spec.baselines,
                hint="Pass a baseline YAML file or name a submission as the baseline.",
            )
        return self.spec.baselines[name]

    def template(self, template_id: str) -> dict[str, Any]:
        if template_id not in self.spec.templates:
            raise UnknownNameError(f"{self.name} prompt template", template_id, self.spec.templates)
        return self.spec.templates[template_id]

    def metric_keys(self) -> list[tuple[str, str]]:
        """Every ``(dataset, metric key)`` column, in registry order."""
        return [(d.id, m.key) for d in self._datasets.values() for m in d.spec.metrics]

    def counts(self) -> dict[str, int]:
        return {
            "capabilities": len(self.spec.capabilities),
            "tasks": len(self.tasks()),
            "datasets": len(self._datasets),
            "lite": len(self.lite()),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json", exclude_defaults=True)


def _check_semantics(spec: BenchmarkSpec, raw: Mapping[str, Any]) -> None:
    from ennead.cuge.metrics import cuge_metric_names

    known = set(cuge_metric_names())
    seen: dict[str, str] = {}
    where = _Where(raw)
    for ci, cap in enumerate(spec.capabilities):
        for kind, ident, path in [("capability", cap.id, where.at(ci))]:
            _unique(seen, kind, ident, path)
        for ti, task in enumerate(cap.tasks):
            _unique(seen, "task", task.id, where.at(ci, ti))
            for di, ds in enumerate(task.datasets):
                p = where.at(ci, ti, di)
                _unique(seen, "dataset", ds.id, p)
                keys = set()
                for mi, m in enumerate(ds.metrics):
                    if m.name not in known:
                        close = difflib.get_close_matches(m.name, sorted(known), n=1)
                        hint = f" (did you mean {close[0]!r}?)" if close else ""
                        raise ConfigError(
                            f"{p}.metrics[{mi}].name: unknown metric {m.name!r}{hint}"
                        )
                    if (m.field is None) == (ds.format == "record"):
                        need = "needs" if ds.format == "record" else "takes no"
                        raise ConfigError(
                            f"{p}.metrics[{mi}]: a {ds.format!r} dataset {need} 'field'"
                        )
                    if m.key in keys:
                        raise ConfigError(f"{p}.metrics[{mi}]: metric {m.key!r} listed twice")
                    keys.add(m.key)
                if ds.template is not None and ds.template not in spec.templates:
                    raise ConfigError(f"{p}.template: no template {ds.template!r} in 'templates'")
    datasets = {d.id: d for c in spec.capabilities for t in c.tasks for d in t.datasets}
    for name, table in spec.baselines.items():
        for ds_id, scores in table.scores.items():
            p = f"baselines[{name}].scores[{ds_id}]"
            if ds_id not in datasets:
                close = difflib.get_close_matches(ds_id, list(datasets), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{p}: unknown dataset{hint}")
            mkeys = [m.key for m in datasets[ds_id].metrics]
            for key, value in scores.items():
                if key not in mkeys:
                    raise ConfigError(f"{p}.{key}: not a metric of {ds_id}; its metrics: {mkeys}")
                if not value > 0:
                    raise ConfigError(f"{p}.{key}: a baseline must be > 0, got {value}")
    if spec.default_baseline is not None and spec.default_baseline not in spec.baselines:
        raise ConfigError(f"default_baseline: no baseline table {spec.default_baseline!r}")


class _Where:
    """Human paths for capability/task/dataset positions."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw

    def at(self, *idx: int) -> str:
        loc: list[Any] = ["capabilities", idx[0]]
        if len(idx) > 1:
            loc += ["tasks", idx[1]]
        if len(idx) > 2:
            loc += ["datasets", idx[2]]
        return _path_of(self.raw, loc)


def _unique(seen: dict[str, str], kind: str, ident: str, path: str) -> None:
    if ident in seen:
        raise ConfigError(f"{path}: {kind} id {ident!r} is already used by a {seen[ident]}")
    seen[ident] = kind


def parse_benchmark(raw: Any, source: str = "<registry>", text: str | None = None) -> Benchmark:
    """Validate a registry mapping; errors name the path of the bad node."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: a registry must be a mapping, got {type(raw).__name__}")
    try:
        spec = BenchmarkSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _path_of(raw, err["loc"])
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{source}: {path}: {err['msg']}{more}") from None
    try:
        _check_semantics(spec, raw)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return Benchmark(spec, source, text if text is not None else yaml.safe_dump(dict(raw)))


BUILTIN = ("cuge", "standin")


def load_benchmark(name_or_path: str | Path) -> Benchmark:
    """A shipped registry by name (``cuge``, ``standin``) or a YAML file."""
    text_name = str(name_or_path)
    if text_name in BUILTIN:
        path = Path(str(resources.files("ennead.cuge.registry") / f"{text_name}.yaml"))
    else:
        path = Path(text_name)
        if not path.is_file():
            raise UnknownNameError(
                "benchmark registry", text_name, BUILTIN, hint="Or pass the path of a YAML file."
            )
    text = _read_text(path)
    return parse_benchmark(_parse_yaml(text, path), str(path), text)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None


def _parse_yaml(text: str, path: Path) -> Any:
    """YAML (JSON is YAML) that refuses duplicate keys; errors name file and line."""
    from ennead.core.config import load_yaml_text

    try:
        return load_yaml_text(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None


def load_baseline_file(path: str | Path, bench: Benchmark) -> BaselineTable:
    """A baseline table YAML/JSON ``{model, source?, scores: {dataset: {metric: value}}}``."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "not found"
        raise ConfigError(f"baseline file {what}: {path}")
    raw = _parse_yaml(_read_text(path), path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a baseline table is a mapping {{model, scores}}")
    merged = bench.to_dict()
    merged["baselines"] = {"file": raw}
    merged["default_baseline"] = "file"
    checked = parse_benchmark(merged, str(path))
    return checked.baseline("file")
