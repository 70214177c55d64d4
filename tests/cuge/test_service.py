"""Leaderboard service: uploads, validation (nothing partial stored), boards, reproducibility."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
from fastapi.testclient import TestClient

from ennead.cuge.runners import RuleRunner
from ennead.cuge.service import create_app


@pytest.fixture()
def client(cuge):
    cuge.config.service.max_upload_mb = 0.5
    app = create_app(cuge.config)
    with TestClient(app) as c:
        c.store = app.state.store
        yield c


@pytest.fixture(scope="module")
def rule_submission(tiny_dir):
    from ennead.cuge import CUGE, CUGEConfig

    cuge = CUGE(CUGEConfig(data_dir=str(tiny_dir)))
    path = tiny_dir.parent / "rule-sub.json"
    cuge.predict(out=path, runner=RuleRunner())
    return json.loads(path.read_text(encoding="utf-8"))


def post(client, obj, name="sub.json"):
    data = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
    return client.post("/api/submissions", files={"file": (name, data, "application/json")})


def test_upload_score_board_and_idempotence(client, rule_submission):
    r = post(client, rule_submission)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["scores"]["synth-math"]["math_accuracy"] > 0
    again = post(client, rule_submission)
    assert again.status_code == 200 and again.json() == {**r.json(), "created": False}
    assert client.store.count() == 1
    board = client.get("/api/board").json()
    assert [row["model"] for row in board["rows"]] == ["rule-baseline"]
    assert board["rows"][0]["index"] == pytest.approx(100.0)  # the rule baseline defines b
    record = client.get(f"/api/submissions/{sid}").json()["record"]
    assert record["registry"] == "cuge-standin" and len(record["registry_sha256"]) == 64
    assert set(record["dataset_checksums"]) == set(rule_submission["predictions"])
    assert all(len(v) == 64 for v in record["dataset_checksums"].values())
    assert record["runner"] == "rule" and record["model"] == "rule-baseline"
    assert client.get("/api/submissions/999").status_code == 404


def test_custom_board_and_exports(client, rule_submission):
    other = dict(rule_submission, model="worse")
    other["predictions"] = dict(rule_submission["predictions"])
    other["predictions"]["synth-math"] = [
        {"id": it["id"], "prediction": "0"} for it in rule_submission["predictions"]["synth-math"]
    ]
    assert post(client, rule_submission).status_code == 201
    assert post(client, other).status_code == 201
    mr = client.get("/api/board?capabilities=MR").json()
    assert mr["capabilities"] == ["MR"]
    assert [r["model"] for r in mr["rows"]] == ["rule-baseline", "worse"]
    assert mr["rows"][1]["index"] == 0.0
    weighted = client.get("/api/board?aggregator=weighted&weights=MR:0.001").json()
    assert weighted["rows"][1]["index"] > 90  # MR barely counts
    bad = client.get("/api/board?capabilities=MRR")
    assert bad.status_code == 400 and "did you mean 'MR'" in bad.json()["detail"]
    csv_text = client.get("/api/board.csv?board=lite").text
    assert csv_text.startswith("rank,model,org,date,submission") and "worse" in csv_text
    assert "| 1 | rule-baseline |" in client.get("/api/board.md").text
    assert "<table>" in client.get("/board.html").text
    per = client.get("/api/datasets/synth-math/board").json()["rows"]
    assert [r["model"] for r in per] == ["rule-baseline", "worse"]


def test_hidden_labels(client):
    reg = client.get("/api/registry").json()
    assert reg["counts"]["datasets"] == 8
    rows = client.get("/api/datasets/synth-math/test").json()
    assert len(rows) == 40 and all(set(r) == {"id", "input"} for r in rows)
    assert '"answer":' not in json.dumps(reg)
    assert client.get("/api/datasets/nope/test").status_code == 404


def _mutate(sub, fn):
    out = json.loads(json.dumps(sub))
    fn(out)
    return out


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        (lambda s: b"\xff\xfe{not utf8", 400, "not UTF-8"),
        (lambda s: b'{"benchmark": ', 400, "not valid JSON"),
        (lambda s: b"", 400, "empty"),
        (lambda s: b"{" + b" " * 600_000 + b"}", 413, "limit"),
        (
            lambda s: _mutate(
                s, lambda o: o["predictions"].update({"pd98-sge": o["predictions"]["pd98-seg"]})
            ),
            422,
            "did you mean 'pd98-seg'",
        ),
        (
            lambda s: _mutate(s, lambda o: o["predictions"]["synth-math"].pop()),
            422,
            "1 of 40 test ids have no prediction",
        ),
        (
            lambda s: _mutate(
                s,
                lambda o: o["predictions"]["synth-math"].append(o["predictions"]["synth-math"][0]),
            ),
            422,
            "duplicate ids test-00000",
        ),
        (
            lambda s: _mutate(
                s,
                lambda o: o["predictions"]["synth-math"].__setitem__(
                    0, {"id": "test-99999", "prediction": "1"}
                ),
            ),
            422,
            "not in the test set",
        ),
        (
            lambda s: _mutate(
                s,
                lambda o: o["predictions"]["pd98-seg"].__setitem__(
                    0, {"id": "test-00000", "prediction": 5}
                ),
            ),
            422,
            "expected a list of words",
        ),
        (lambda s: _mutate(s, lambda o: o.update(benchmark="cuge")), 422, "benchmark"),
        (lambda s: _mutate(s, lambda o: o.update(extra_key=1)), 422, "extra_key"),
        (lambda s: _mutate(s, lambda o: o.pop("model")), 422, "model"),
    ],
)
def test_bad_uploads_are_rejected_and_store_nothing(client, rule_submission, make, status, message):
    r = post(client, make(rule_submission))
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert client.store.count() == 0
    with sqlite3.connect(client.store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0


def test_schema_version_and_wal(client, tmp_path):
    assert client.get("/healthz").json()["schema"] == 1
    with sqlite3.connect(client.store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute("UPDATE schema_version SET version = 99")
    from ennead.core.errors import DataError
    from ennead.cuge.store import BoardStore

    with pytest.raises(DataError, match="newer than this ennead"):
        BoardStore(client.store.path)


EVIL = "<img src=x onerror=alert(1)> [x](javascript:alert(1))"


def test_honor_code_flag_and_escaping_on_every_board(client, rule_submission):
    assert post(client, rule_submission).status_code == 201
    flagged = dict(rule_submission, model=EVIL, org=EVIL, honor_code=False)
    r = post(client, flagged)
    assert r.status_code == 201 and r.json()["honor_code"] is False
    rows = client.get("/api/board").json()["rows"]
    by_model = {row["model"]: row for row in rows}
    assert by_model[EVIL]["honor_code"] is False and by_model[EVIL]["flags"] == ["no-honor-code"]
    assert by_model["rule-baseline"]["flags"] == []
    subs = {s["model"]: s for s in client.get("/api/submissions").json()}
    assert subs[EVIL]["honor_code"] is False and subs["rule-baseline"]["honor_code"] is True
    md = client.get("/api/board.md").text
    page = client.get("/board.html").text
    assert md.count("no honor code") >= 3 and "no honor code" in page
    assert "<img" not in md and not re.search(r"(?<!\\)\]\(javascript", md) and "<img" not in page
    drill = [line for line in md.splitlines() if line.startswith("### Drill-down: ")]
    assert len(drill) == 2 and any("&lt;img" in line for line in drill)
    named = client.get("/api/board.md", params={"board": "<script>x</script>"}).text
    assert "<script>" not in named and "&lt;script&gt;" in named.splitlines()[0]
    # the page script shows the flag (it inserts text with textContent, never HTML)
    assert "no honor code" in client.get("/").text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("datasets=synth-math,synth-math", "datasets: 'synth-math' given more than once"),
        ("aggregator=weighted&weights=MR:2,MR:3", "weights: 'MR' given more than once"),
        ("weights=MR:5", "no effect under aggregator 'mean'"),
    ],
)
def test_board_queries_refused_with_names(client, query, message):
    r = client.get(f"/api/board?{query}")
    assert r.status_code == 400 and message in r.json()["detail"], r.text
