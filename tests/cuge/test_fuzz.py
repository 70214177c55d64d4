"""Fuzz tests: loaders and the upload endpoint fed mutated files answer with typed errors only.

Each input is a real file (config, board spec, registry, test JSONL, submission) with one to
three byte-level mutations drawn by hypothesis (flip, delete, insert, duplicate, truncate). A
loader may accept the result or raise an ``EnneadError``; any other exception fails the test. A
refused upload must leave the database exactly as it was. Examples are derandomized (a fixed
seed), so a failure reproduces.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ennead.core.config import load_config
from ennead.core.errors import EnneadError
from ennead.core.io import read_jsonl
from ennead.cuge import CUGE, CUGEConfig
from ennead.cuge.benchmark import load_baseline_file, load_benchmark
from ennead.cuge.boards import load_board_spec
from ennead.cuge.runners import RuleRunner
from ennead.cuge.submission import SubmissionError, parse_submission

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CONFIGS = Path(__file__).parents[2] / "src" / "ennead" / "cuge" / "configs"
REGISTRY = Path(__file__).parents[2] / "src" / "ennead" / "cuge" / "registry" / "standin.yaml"


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        i = draw(st.integers(0, len(data) - 1))
        j = min(len(data), i + draw(st.integers(1, 40)))
        if kind == "flip":
            data[i] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[i:j]
        elif kind == "insert":
            piece = draw(
                st.one_of(
                    st.binary(min_size=1, max_size=8),
                    st.sampled_from(
                        [
                            b"\xff",
                            b"\xef\xbb\xbf",
                            b'"',
                            b"{",
                            b"]",
                            b":",
                            b"\n",
                            b"- ",
                            b"&a",
                            b"*a",
                            b"!!python/object:os.system",
                            b"NaN",
                            b"1e999",
                            b"\t",
                            b"null",
                            b"[[[[",
                            b"\x00",
                        ]
                    ),
                )
            )
            data[i:i] = piece
        elif kind == "duplicate":
            data[j:j] = data[i:j]
        else:
            del data[i:]
    return bytes(data)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- config, board spec, registry, baseline files -----------------------------------------
@FUZZ
@given(data=mutated((CONFIGS / "default.yaml").read_bytes()))
def test_config_loader_typed_errors_only(tmp_path_factory, data):
    path = _write(tmp_path_factory.mktemp("cfg") / "c.yaml", data)
    try:
        cfg = load_config(CUGEConfig, str(path), (), package="ennead.cuge")
    except EnneadError:
        return
    assert isinstance(cfg, CUGEConfig)


BOARD = b"name: mine\naggregator: weighted\ncapabilities: [MR, NLG]\nweights: {MR: 2, NLG: 1}\n"


@FUZZ
@given(data=mutated(BOARD))
def test_board_spec_loader_typed_errors_only(tmp_path_factory, data):
    path = _write(tmp_path_factory.mktemp("board") / "b.yaml", data)
    with contextlib.suppress(EnneadError):
        load_board_spec(path)


@FUZZ
@given(data=mutated(REGISTRY.read_bytes()))
def test_registry_loader_typed_errors_only(tmp_path_factory, data):
    path = _write(tmp_path_factory.mktemp("reg") / "r.yaml", data)
    with contextlib.suppress(EnneadError):
        load_benchmark(path)


BASELINE = json.dumps({"model": "m", "scores": {"synth-math": {"math_accuracy": 12.5}}}).encode()


@FUZZ
@given(data=mutated(BASELINE))
def test_baseline_loader_typed_errors_only(tmp_path_factory, data):
    bench = load_benchmark("standin")
    path = _write(tmp_path_factory.mktemp("base") / "b.json", data)
    with contextlib.suppress(EnneadError):
        load_baseline_file(path, bench)


# -- JSONL and submission files ---------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_jsonl_loader_typed_errors_only(tiny_dir, tmp_path_factory, data):
    base = (tiny_dir / "synth-math" / "test.jsonl").read_bytes()[:2000]
    path = _write(tmp_path_factory.mktemp("jsonl") / "t.jsonl", data.draw(mutated(base)))
    try:
        rows = read_jsonl(path)
    except EnneadError:
        return
    assert all(isinstance(r, dict) for r in rows)


@pytest.fixture(scope="module")
def submission_bytes(tiny_dir, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("sub") / "rule.json"
    CUGE(CUGEConfig(data_dir=str(tiny_dir))).predict(out=out, runner=RuleRunner())
    return out.read_bytes()


@FUZZ
@given(data=st.data())
def test_submission_loader_typed_errors_only(tiny_dir, submission_bytes, tmp_path_factory, data):
    cuge = CUGE(CUGEConfig(data_dir=str(tiny_dir)))
    blob = data.draw(mutated(submission_bytes))
    bench = cuge.benchmark()
    gold = {d: [str(r["id"]) for r in rows] for d, rows in cuge.gold().items()}
    with contextlib.suppress(SubmissionError):
        parse_submission(blob, bench, gold, 2**20)
    path = _write(tmp_path_factory.mktemp("subf") / "s.json", blob)
    try:
        cuge.score_file(path)
    except EnneadError as exc:
        assert str(exc).startswith(str(path))  # the file is named


# -- the upload endpoint ------------------------------------------------------------------------
def _snapshot(db: str) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(db) as con:
        subs = con.execute("SELECT id, content_hash, model FROM submissions ORDER BY id").fetchall()
        scores = con.execute("SELECT * FROM scores ORDER BY 1, 2, 3").fetchall()
    return subs, scores


@pytest.fixture(scope="module")
def upload_client(tiny_dir, tmp_path_factory, submission_bytes):
    pytest.importorskip("fastapi")
    pytest.importorskip("multipart")
    from fastapi.testclient import TestClient

    from ennead.cuge.service import create_app

    cfg = CUGEConfig(data_dir=str(tiny_dir))
    cfg.service.db = str(tmp_path_factory.mktemp("db") / "board.sqlite")
    app = create_app(cfg)
    with TestClient(app) as client:
        # one good submission already there: refused uploads must leave it untouched
        r = client.post("/api/submissions", files={"file": ("s.json", submission_bytes)})
        assert r.status_code == 201
        yield client, cfg.service.db


@FUZZ
@given(data=st.data())
def test_upload_endpoint_typed_errors_and_unchanged_db(upload_client, submission_bytes, data):
    client, db = upload_client
    blob = data.draw(mutated(submission_bytes))
    before = _snapshot(db)
    r = client.post("/api/submissions", files={"file": ("s.json", blob, "application/json")})
    assert r.status_code in (200, 201, 400, 404, 413, 422), r.text
    assert isinstance(r.json(), dict)
    if r.status_code >= 400:
        assert r.json()["detail"]
        assert _snapshot(db) == before
    elif r.status_code == 200:  # same bytes again: nothing new
        assert _snapshot(db) == before
