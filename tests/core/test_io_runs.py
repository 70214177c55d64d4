import json
from pathlib import Path

import pytest

from ennead.core.errors import DataError, StageError
from ennead.core.io import atomic_write_text, iter_jsonl, read_jsonl, write_jsonl
from ennead.core.runs import RunDir


def test_malformed_jsonl_reports_file_and_line(tmp_path: Path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2\n')
    with pytest.raises(DataError) as info:
        read_jsonl(path)
    assert f"{path}:3" in str(info.value)
    assert "invalid JSON" in str(info.value)


def test_jsonl_rejects_non_object(tmp_path: Path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"data.jsonl:2: expected a JSON object, got list"):
        list(iter_jsonl(path))


def test_jsonl_round_trip_and_missing(tmp_path: Path):
    rows = [{"q": "où?", "a": [1]}, {"q": "b"}]
    write_jsonl(tmp_path / "x.jsonl", rows)
    assert read_jsonl(tmp_path / "x.jsonl") == rows
    with pytest.raises(DataError, match="file not found"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temp file left


def test_rundir_manifest_metrics_and_finish(tmp_path: Path):
    run = RunDir.create(tmp_path / "run", {"a": 1}, seed=5, system="demo")
    man = run.manifest
    assert man["seed"] == 5 and man["status"] == "running" and man["started"]
    assert "packages" in man and "pydantic" in man["packages"]
    run.log_metrics({"loss": 1.5}, step=1)
    run.log_metrics({"loss": 1.0}, step=2)
    (run.path / "metrics.jsonl").open("a").write('{"loss": ')  # a line cut by a crash
    assert [r["loss"] for r in run.read_metrics()] == [1.5, 1.0]
    run.finish()
    assert run.manifest["status"] == "finished" and run.manifest["ended"]
    assert (run.path / "config.yaml").read_text().strip() == "a: 1"


def test_stage_resume_skips_finished_and_redoes_partial(tmp_path: Path):
    run = RunDir.create(tmp_path / "run", {"a": 1})
    calls = []

    def stage_one(folder: Path):
        calls.append("one")
        (folder / "out.jsonl").write_text("{}\n")
        return {"rows": 1}

    assert run.run_stage("one", stage_one) == {"rows": 1}

    def crashing(folder: Path):
        (folder / "half.jsonl").write_text("{}\n")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.run_stage("two", crashing)
    assert not run.is_done("two")
    assert run.stages() == {"one": True, "two": False}

    # Reopen (as after a crash): the finished stage is not redone, the partial one is cleared.
    run2 = RunDir.create(tmp_path / "run", {"a": 1})
    assert run2.run_stage("one", stage_one) == {"rows": 1}
    assert calls == ["one"]

    def stage_two(folder: Path):
        assert not (folder / "half.jsonl").exists()
        return {"ok": True}

    assert run2.run_stage("two", stage_two) == {"ok": True}
    assert run2.is_done("two")
    assert len(run2.manifest["resumed"]) == 1


def test_resume_with_other_config_refused(tmp_path: Path):
    RunDir.create(tmp_path / "run", {"a": 1, "b": {"c": 2}})
    with pytest.raises(StageError, match=r"different config \(b\.c: 2 -> 3\)"):
        RunDir.create(tmp_path / "run", {"a": 1, "b": {"c": 3}})
    with pytest.raises(StageError, match="a: 1 -> '<missing>'"):
        RunDir.create(tmp_path / "run", {"b": {"c": 2}})


def test_resume_accepts_keys_added_since_the_run_started(tmp_path: Path):
    run = RunDir.create(tmp_path / "run", {"a": 1})
    run.run_stage("one", lambda folder: {"ok": True})
    again = RunDir.create(tmp_path / "run", {"a": 1, "new": {"x": None}})
    assert again.is_done("one")
    assert "new" in (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(StageError, match=r"new\.x: None -> 5"):
        RunDir.create(tmp_path / "run", {"a": 1, "new": {"x": 5}})


def test_bad_stage_name_and_unfinished_info(tmp_path: Path):
    run = RunDir.create(tmp_path / "run")
    with pytest.raises(StageError, match="may hold only"):
        run.stage_dir("../escape")
    with pytest.raises(StageError, match="has not finished"):
        run.stage_info("never")
    assert not (run.path / "config.yaml").exists()  # no config given, none written
    assert json.loads((run.path / "manifest.json").read_text())["status"] == "running"
