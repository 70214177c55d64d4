"""Task streams: ordered label-incremental tasks, each with train/valid/test splits.

A task adds a set of labels no earlier task used (the paper's "schema-incremental" setting: the
task id is not given at test time). :func:`split_into_tasks` cuts a labelled corpus into such a
stream with a fixed seed; :func:`load_conpet_json` and :func:`load_fewrel` read the paper's data
formats from a user's files; :func:`validate` names the task and label of every problem.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError, StageError

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Example:
    uid: int  # unique in the stream: the row of the logit cache
    text: str
    label: str


@dataclass
class Task:
    name: str
    labels: list[str]
    train: list[Example] = field(default_factory=list)
    valid: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)

    def split(self, name: str) -> list[Example]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return list(getattr(self, name))


@dataclass
class Stream:
    name: str
    tasks: list[Task]

    @property
    def labels(self) -> list[str]:
        """All labels in task order: the head's columns."""
        return [lab for t in self.tasks for lab in t.labels]

    def seen_labels(self, t: int) -> list[str]:
        return [lab for task in self.tasks[: t + 1] for lab in task.labels]

    def label_task(self) -> dict[str, int]:
        return {lab: i for i, task in enumerate(self.tasks) for lab in task.labels}

    @property
    def size(self) -> int:
        """One past the largest uid (rows of a logit cache)."""
        uids = [e.uid for t in self.tasks for s in SPLITS for e in t.split(s)]
        return max(uids) + 1 if uids else 0

    def summary(self) -> list[dict[str, Any]]:
        return [
            {
                "task": t.name,
                "labels": len(t.labels),
                "train": len(t.train),
                "valid": len(t.valid),
                "test": len(t.test),
            }
            for t in self.tasks
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tasks": [
                {
                    "name": t.name,
                    "labels": t.labels,
                    **{s: [[e.uid, e.text, e.label] for e in t.split(s)] for s in SPLITS},
                }
                for t in self.tasks
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stream:
        tasks = [
            Task(
                name=t["name"],
                labels=list(t["labels"]),
                **{s: [Example(int(u), str(x), str(y)) for u, x, y in t[s]] for s in SPLITS},
            )
            for t in data["tasks"]
        ]
        return cls(name=str(data["name"]), tasks=tasks)

    def task_fingerprints(self) -> list[str]:
        """One hash per task (labels and every example), to spot a changed stream on resume."""
        out = []
        for t in self.tasks:
            h = hashlib.sha256(json.dumps([t.name, t.labels], sort_keys=True).encode())
            for s in SPLITS:
                for e in t.split(s):
                    h.update(f"{s}\t{e.uid}\t{e.label}\t{e.text}\n".encode())
            out.append(h.hexdigest()[:16])
        return out


def validate(stream: Stream, source: str | Path | None = None) -> Stream:
    """Refuse a stream the methods cannot learn from; each error names the task and label."""
    if not stream.tasks:
        raise DataError("the stream has no tasks", source)
    seen: dict[str, str] = {}
    uids: set[int] = set()
    for task in stream.tasks:
        if not task.labels:
            raise DataError(f"task {task.name!r} has no labels", source)
        if not task.train:
            raise DataError(f"task {task.name!r} is empty: no training examples", source)
        if not task.test:
            raise DataError(f"task {task.name!r} has no test examples", source)
        for lab in task.labels:
            if lab in seen:
                raise DataError(
                    f"task {task.name!r} reuses label {lab!r} of task {seen[lab]!r}; "
                    "each task must bring new labels",
                    source,
                )
            seen[lab] = task.name
        own = set(task.labels)
        for s in SPLITS:
            for e in task.split(s):
                if e.label not in own:
                    raise DataError(
                        f"task {task.name!r} ({s}) has an example with label {e.label!r}, "
                        f"which is not among its labels ({', '.join(task.labels)})",
                        source,
                    )
                if e.uid in uids:
                    raise DataError(f"task {task.name!r}: example id {e.uid} repeats", source)
                uids.add(e.uid)
        missing = own - {e.label for e in task.train}
        if missing:
            raise DataError(
                f"task {task.name!r}: label {sorted(missing)[0]!r} has no training example", source
            )
    return stream


def check_resume(saved: dict[str, Any], stream: Stream, where: str | Path) -> None:
    """Refuse to resume a run with a changed stream: name the first task that differs."""
    old_names = [t["name"] for t in saved["tasks"]]
    old_fp = saved["fingerprints"]
    new_fp = stream.task_fingerprints()
    for i, task in enumerate(stream.tasks):
        if i >= len(old_fp):
            break
        if old_names[i] != task.name or old_fp[i] != new_fp[i]:
            old_labels = saved["tasks"][i]["labels"]
            diff = sorted(set(old_labels) ^ set(task.labels))
            what = f"labels differ ({', '.join(diff)})" if diff else "its examples differ"
            raise StageError(
                f"{where} was trained on another stream: task {i + 1} ({task.name!r}) changed, "
                f"{what}; resume needs the same stream or a new run folder"
            )
    if len(old_fp) != len(new_fp):
        raise StageError(
            f"{where} was trained on a stream of {len(old_fp)} tasks, this one has "
            f"{len(new_fp)}; resume needs the same stream or a new run folder"
        )


def stream_record(stream: Stream) -> dict[str, Any]:
    return {
        "name": stream.name,
        "tasks": [{"name": t.name, "labels": t.labels} for t in stream.tasks],
        "fingerprints": stream.task_fingerprints(),
    }


def split_into_tasks(
    rows: Iterable[tuple[str, str]],
    n_tasks: int,
    seed: int = 100,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    name: str = "stream",
    label_order: Sequence[str] | None = None,
    max_per_label: int | None = None,
) -> Stream:
    """The paper's split: labels sorted, shuffled with ``seed`` (unless ``label_order``), cut into
    ``n_tasks`` consecutive groups; each label's examples shuffled and split train/valid/test."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        by_label[str(label)].append(str(text))
    rng = random.Random(seed)
    if label_order is None:
        labels = sorted(by_label)
        rng.shuffle(labels)
    else:
        labels = list(label_order)
    if not 1 <= n_tasks <= len(labels):
        raise DataError(f"cannot cut {len(labels)} labels into {n_tasks} tasks")
    bounds = [round(i * len(labels) / n_tasks) for i in range(n_tasks + 1)]
    uid = 0
    tasks = []
    for k in range(n_tasks):
        group = labels[bounds[k] : bounds[k + 1]]
        task = Task(name=f"task{k + 1}", labels=group)
        for lab in group:
            texts = by_label[lab][:]
            rng.shuffle(texts)
            if max_per_label is not None:
                texts = texts[:max_per_label]
            n = len(texts)
            n_train = max(1, int(fractions[0] * n))
            n_valid = int(fractions[1] * n)
            parts = (
                texts[:n_train],
                texts[n_train : n_train + n_valid],
                texts[n_train + n_valid :],
            )
            for split, part in zip(SPLITS, parts):
                for text in part:
                    getattr(task, split).append(Example(uid, text, lab))
                    uid += 1
        tasks.append(task)
    return Stream(name=name, tasks=tasks)


# -- the paper's formats ---------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON ({exc.msg})", path, exc.lineno) from None


def load_conpet_json(folder: str | Path, dataset: str, name: str | None = None) -> Stream:
    """The reference repo's preprocessed stream (FewRel, FewNERD, TACRED, ACE alike):
    ``{dataset}_split_{train|valid|test}_dataset_p{T}_key.json`` in ``folder``, each a list of T
    lists of ``[sample_key, tag, text]``. The labels of a task are the tags of its train list."""
    root = Path(folder)
    splits: dict[str, list[list[Any]]] = {}
    paths: dict[str, Path] = {}
    for s in SPLITS:
        found = sorted(root.glob(f"{dataset}_split_{s}_dataset_p*_key.json"))
        if not found:
            raise DataError(f"no {dataset}_split_{s}_dataset_p*_key.json in the folder", root)
        data = _read_json(found[0])
        if not isinstance(data, list) or not all(isinstance(t, list) for t in data):
            raise DataError("expected a list of per-task lists of [key, tag, text]", found[0])
        splits[s] = data
        paths[s] = found[0]
    n = len(splits["train"])
    if any(len(splits[s]) != n for s in SPLITS):
        sizes = ", ".join(f"{s} {len(splits[s])}" for s in SPLITS)
        raise DataError(f"the splits have different numbers of tasks ({sizes})", root)
    tasks = [Task(name=f"task{k + 1}", labels=[]) for k in range(n)]
    uid = 0
    for s in SPLITS:
        path = paths[s]
        for k, rows in enumerate(splits[s]):
            for j, row in enumerate(rows):
                if not (isinstance(row, list) and len(row) == 3 and isinstance(row[2], str)):
                    raise DataError(
                        f"task {k + 1}, item {j + 1}: expected [sample_key, tag, text], got "
                        f"{json.dumps(row)[:80]}",
                        path,
                    )
                label = str(row[1])
                if s == "train" and label not in tasks[k].labels:
                    tasks[k].labels.append(label)
                getattr(tasks[k], s).append(Example(uid, row[2], label))
                uid += 1
    return validate(Stream(name=name or dataset, tasks=tasks), root)


def fewrel_text(tokens: Sequence[str], head: Sequence[int], tail: Sequence[int]) -> str:
    """The paper's relation prompt: entity markers and a cloze suffix with one [MASK]."""
    words: list[str] = []
    for i, tok in enumerate(tokens):
        words += ["[E1]"] if i == head[0] else []
        words += ["[E2]"] if i == tail[0] else []
        words.append(tok)
        words += ["[/E1]"] if i == head[-1] else []
        words += ["[/E2]"] if i == tail[-1] else []
    h = " ".join(tokens[head[0] : head[-1] + 1])
    t = " ".join(tokens[tail[0] : tail[-1] + 1])
    return " ".join(words) + f" In this sentence, {t} is the [MASK] of {h}."


def load_fewrel(
    path: str | Path, n_tasks: int = 10, seed: int = 100, max_per_label: int | None = None
) -> Stream:
    """FewRel 1.0 JSON (``{relation: [{tokens, h: [name, id, [[pos..]]], t: ...}]}``), split
    into label-incremental tasks as the paper does (80 relations -> 10 tasks of 8)."""
    p = Path(path)
    data = _read_json(p)
    if not isinstance(data, dict):
        raise DataError("expected an object {relation: [instances]}", p)
    rows: list[tuple[str, str]] = []
    for rel, items in data.items():
        for j, it in enumerate(items if isinstance(items, list) else [None]):
            try:
                head, tail = it["h"][2][0], it["t"][2][0]
                rows.append((fewrel_text(it["tokens"], head, tail), rel))
            except (TypeError, KeyError, IndexError):
                raise DataError(
                    f"relation {rel!r}, instance {j + 1}: expected tokens, h and t with positions",
                    p,
                ) from None
    stream = split_into_tasks(rows, n_tasks, seed, name="fewrel", max_per_label=max_per_label)
    return validate(stream, p)


def load_jsonl_stream(path: str | Path, n_tasks: int, seed: int = 100) -> Stream:
    """JSONL rows ``{"text": ..., "label": ...}`` cut into label-incremental tasks."""
    from ennead.core.io import iter_jsonl

    p = Path(path)
    rows = []
    for i, row in enumerate(iter_jsonl(p), 1):
        if not isinstance(row.get("text"), str) or row.get("label") in (None, ""):
            raise DataError("expected {'text': str, 'label': str}", p, i)
        rows.append((row["text"], str(row["label"])))
    if not rows:
        raise DataError("no examples in the file", p)
    return validate(split_into_tasks(rows, n_tasks, seed, name=p.stem), p)


def save_stream(stream: Stream, path: str | Path) -> Path:
    from ennead.core.io import atomic_write_json

    return atomic_write_json(path, stream.to_json())


def load_stream(path: str | Path) -> Stream:
    """A stream saved by ``ennead conpet stream`` (JSON); validated."""
    p = Path(path)
    data = _read_json(p)
    try:
        stream = Stream.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"not a saved stream ({exc})", p) from None
    return validate(stream, p)
