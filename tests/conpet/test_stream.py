"""Streams: the paper's split, the loaders, and the errors that name the task and label."""

from __future__ import annotations

import json

import pytest

from ennead.conpet.stream import (
    Example,
    Stream,
    Task,
    check_resume,
    load_conpet_json,
    load_fewrel,
    load_jsonl_stream,
    load_stream,
    save_stream,
    split_into_tasks,
    stream_record,
    validate,
)
from ennead.conpet.synthetic import controlled_stream
from ennead.core.errors import DataError, StageError


def _rows(n_labels=6, per_label=10):
    return [(f"text {lab} {i}", f"L{lab}") for lab in range(n_labels) for i in range(per_label)]


def test_split_is_label_incremental_and_seeded():
    a = split_into_tasks(_rows(), n_tasks=3, seed=100)
    b = split_into_tasks(_rows(), n_tasks=3, seed=100)
    c = split_into_tasks(_rows(), n_tasks=3, seed=7)
    assert a.to_json() == b.to_json()
    assert [t.labels for t in a.tasks] != [t.labels for t in c.tasks]
    assert sorted(a.labels) == [f"L{i}" for i in range(6)] and len(set(a.labels)) == 6
    assert [len(t.labels) for t in a.tasks] == [2, 2, 2]
    for t in a.tasks:  # 80/10/10 of 10 examples per label
        assert (len(t.train), len(t.valid), len(t.test)) == (16, 2, 2)
    assert (
        len({e.uid for t in a.tasks for s in ("train", "valid", "test") for e in t.split(s)}) == 60
    )


def _stream(**changes):
    tasks = [
        Task(
            "t1",
            ["a", "b"],
            [Example(0, "x", "a"), Example(1, "y", "b")],
            [],
            [Example(2, "z", "a")],
        ),
        Task("t2", ["c"], [Example(3, "x", "c")], [], [Example(4, "z", "c")]),
    ]
    for key, value in changes.items():
        setattr(tasks[1], key, value)
    return Stream("s", tasks)


def test_validate_accepts_a_good_stream():
    assert validate(_stream()).labels == ["a", "b", "c"]


def test_reused_label_names_both_tasks():
    with pytest.raises(DataError, match="task 't2' reuses label 'a' of task 't1'"):
        validate(_stream(labels=["a"], train=[Example(3, "x", "a")], test=[Example(4, "z", "a")]))


def test_empty_task_is_named():
    with pytest.raises(DataError, match="task 't2' is empty"):
        validate(_stream(train=[]))


def test_label_missing_from_the_head_is_named():
    with pytest.raises(DataError, match=r"task 't2' \(test\).*label 'q'.*not among its labels"):
        validate(_stream(test=[Example(4, "z", "q")]))


def test_label_without_training_example_is_named():
    with pytest.raises(DataError, match="task 't2': label 'd' has no training example"):
        validate(_stream(labels=["c", "d"]))


def test_resume_with_a_changed_stream_names_the_task_and_labels(tmp_path):
    old = stream_record(_stream())
    check_resume(old, _stream(), tmp_path)  # same stream: fine
    changed = _stream(labels=["d"], train=[Example(3, "x", "d")], test=[Example(4, "z", "d")])
    with pytest.raises(StageError, match=r"task 2 \('t2'\) changed, labels differ \(c, d\)"):
        check_resume(old, changed, tmp_path)
    with pytest.raises(StageError, match="examples differ"):
        check_resume(old, _stream(train=[Example(3, "other text", "c")]), tmp_path)


def test_conpet_json_format_and_a_bad_item(tmp_path):
    for split in ("train", "valid", "test"):
        data = [
            [[f"k{i}", "rel_a", f"s {i} [MASK]"] for i in range(3)],
            [[f"k{i}", "rel_b", f"s {i} [MASK]"] for i in range(3)],
        ]
        (tmp_path / f"fewrel_split_{split}_dataset_p2_key.json").write_text(json.dumps(data))
    s = load_conpet_json(tmp_path, "fewrel")
    assert [t.labels for t in s.tasks] == [["rel_a"], ["rel_b"]] and len(s.tasks[1].test) == 3
    bad = [[["k", "rel_a", "ok"]], [["k", "rel_b"]]]
    (tmp_path / "fewrel_split_test_dataset_p2_key.json").write_text(json.dumps(bad))
    with pytest.raises(
        DataError, match=r"fewrel_split_test.*task 2, item 1: expected \[sample_key"
    ):
        load_conpet_json(tmp_path, "fewrel")


def test_fewrel_loader_marks_entities_and_names_a_bad_instance(tmp_path):
    inst = {
        "tokens": ["Paris", "is", "in", "France"],
        "h": ["paris", "Q1", [[0]]],
        "t": ["france", "Q2", [[3]]],
    }
    data = {f"P{k}": [inst] * 10 for k in range(4)}
    path = tmp_path / "train_wiki.json"
    path.write_text(json.dumps(data))
    s = load_fewrel(path, n_tasks=2)
    text = s.tasks[0].train[0].text
    assert text.startswith("[E1] Paris [/E1] is in [E2] France [/E2]")
    assert text.endswith("France is the [MASK] of Paris.")
    data["P1"][3] = {"tokens": ["x"]}
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="relation 'P1', instance 4"):
        load_fewrel(path, n_tasks=2)


def test_jsonl_and_saved_stream_round_trip(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in _rows(4, 10)) + "\n")
    s = load_jsonl_stream(path, n_tasks=2)
    saved = save_stream(s, tmp_path / "stream.json")
    assert load_stream(saved).to_json() == s.to_json()
    path.write_text('{"text": "a", "label": "x"}\n{"text": 3}\n')
    with pytest.raises(DataError, match=r"rows.jsonl:2: expected"):
        load_jsonl_stream(path, n_tasks=1)


def test_controlled_stream_shares_triggers_across_tasks():
    s = controlled_stream(seed=3)
    assert len(s.tasks) == 5 and all(len(t.labels) == 4 for t in s.tasks)
    assert controlled_stream(seed=3).to_json() == s.to_json()
    # a context word seen in two different tasks' sentences: routing cannot lean on context
    words = [{w for e in t.train for w in e.text.split()} for t in s.tasks]
    assert words[0] & words[1] - {"[E]", "[/E]", "[MASK]"}
