"""The leaderboard service: ``ennead cuge serve`` (FastAPI + SQLite).

Participants download test inputs (labels stay on the server), upload prediction files, and see
full, lite, per-dataset and custom boards. Every upload is validated completely, then scored,
then stored in one transaction; a bad file gets a 4xx answer with a message and leaves no trace.
Uploads are idempotent by content hash. Each submission keeps a reproducibility record: registry
version and checksum, dataset checksums, prompt template hashes, model id and decoding params.
"""

import html
import math
from typing import Any

from ennead.core.errors import ConfigError, DataError, EnneadError
from ennead.core.imports import require
from ennead.cuge.benchmark import load_benchmark
from ennead.cuge.boards import BoardSpec, build_board, dataset_board
from ennead.cuge.config import CUGEConfig
from ennead.cuge.data import load_baselines, load_gold
from ennead.cuge.scoring import check_unique
from ennead.cuge.store import BoardStore
from ennead.cuge.submission import SubmissionError, content_hash, parse_submission, score_submission


def _split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def board_spec_from_query(params: dict[str, str]) -> BoardSpec:
    """``?board=lite&capabilities=A,B&tasks=..&datasets=..&labels=k:v,k:w&weights=id:2``."""
    base = params.get("board", "full")
    spec = BoardSpec.preset(base) if base in ("full", "lite") else BoardSpec(name=base)
    labels: dict[str, list[str]] = {}
    for item in _split_list(params.get("labels")):
        key, sep, value = item.partition(":")
        if not sep:
            raise ConfigError(f"label filter {item!r} must look like key:value")
        labels.setdefault(key, []).append(value)
    weights = {}
    for item in _split_list(params.get("weights")):
        key, sep, value = item.rpartition(":")
        try:
            weights[key] = float(value)
        except ValueError:
            raise ConfigError(f"weight {item!r} must look like id:number") from None
        if not sep:
            raise ConfigError(f"weight {item!r} must look like id:number")
    check_unique([i.rpartition(":")[0] for i in _split_list(params.get("weights"))], "weights")
    update: dict[str, Any] = {
        "capabilities": _split_list(params.get("capabilities")),
        "tasks": _split_list(params.get("tasks")),
        "datasets": _split_list(params.get("datasets")),
        "labels": labels,
        "weights": weights,
    }
    if params.get("lite") in ("1", "true"):
        update["lite"] = True
    for key in ("aggregator", "completeness"):
        if params.get(key):
            update[key] = params[key]
    data = spec.model_dump()
    data.update({k: v for k, v in update.items() if v or k == "lite"})
    from pydantic import ValidationError

    from ennead.core.config import validation_to_config_error

    try:
        return BoardSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(BoardSpec, exc, "board") from None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def create_app(config: CUGEConfig | None = None) -> Any:
    fastapi = require("fastapi", "cuge", "the leaderboard service")
    require("multipart", "cuge", "file uploads (python-multipart)")
    from fastapi import FastAPI, File, Request, UploadFile
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

    config = config or CUGEConfig()
    bench = load_benchmark(config.benchmark)
    gold = load_gold(bench, config.data_dir)
    gold_ids = {d: [str(r["id"]) for r in rows] for d, rows in gold.items()}
    baselines = load_baselines(bench, config.data_dir, config.baseline)
    store = BoardStore(config.service.db)
    max_bytes = int(config.service.max_upload_mb * 2**20)
    checksums: dict[str, str] = {}
    try:
        from ennead.cuge.standin import checksums as read_checksums

        checksums = read_checksums(config.data_dir)
    except DataError:
        checksums = {}
    app = FastAPI(title=f"CUGE leaderboard: {bench.name} {bench.version}")

    @app.exception_handler(EnneadError)
    async def _ennead_error(request: Request, exc: EnneadError) -> JSONResponse:
        status = getattr(exc, "status", 400 if isinstance(exc, ConfigError | DataError) else 500)
        if type(exc).__name__ == "UnknownNameError":
            status = 404
        return JSONResponse({"detail": str(exc)}, status_code=status)

    def _board(params: dict[str, str]) -> Any:
        spec = board_spec_from_query(params)
        return build_board(bench, baselines, store.entries(), spec)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "submissions": store.count(), "schema": store.schema_version()}

    @app.get("/api/registry")
    def registry() -> dict[str, Any]:
        return {
            "name": bench.name,
            "version": bench.version,
            "title": bench.spec.title,
            "counts": bench.counts(),
            "label_keys": sorted({k for d in bench.datasets() for k in d.labels}),
            "baselined": sorted(baselines),
            "capabilities": [
                {
                    "id": c.id,
                    "name": c.name,
                    "tasks": [
                        {
                            "id": t.id,
                            "name": t.name,
                            "datasets": [
                                {
                                    "id": d.id,
                                    "format": d.format,
                                    "lite": d.lite,
                                    "metrics": [m.key for m in d.metrics],
                                    "labels": bench.dataset(d.id).labels,
                                    "test_items": len(gold_ids.get(d.id, [])),
                                }
                                for d in t.datasets
                            ],
                        }
                        for t in c.tasks
                    ],
                }
                for c in bench.capabilities
            ],
        }

    @app.get("/api/datasets/{dataset}/test")
    def test_inputs(dataset: str) -> JSONResponse:
        bench.dataset(dataset)
        if dataset not in gold:
            raise DataError(f"dataset {dataset!r} has no test set on this server")
        rows = [{"id": r["id"], "input": r["input"]} for r in gold[dataset]]
        return JSONResponse(rows)

    @app.get("/api/datasets/{dataset}/board")
    def per_dataset(dataset: str) -> dict[str, Any]:
        return {"dataset": dataset, "rows": dataset_board(bench, store.entries(), dataset)}

    @app.get("/api/board")
    def board(request: Request) -> dict[str, Any]:
        b = _board(dict(request.query_params))
        return {
            "spec": b.spec.model_dump(),
            "capabilities": b.capability_ids,
            "rows": [
                {
                    "rank": r.rank,
                    "id": r.entry.id,
                    "model": r.entry.model,
                    "org": r.entry.org,
                    "date": r.entry.date,
                    "index": r.index,
                    "complete": r.complete,
                    "missing": r.missing,
                    "honor_code": r.entry.honor_code,
                    "flags": [] if r.entry.honor_code else ["no-honor-code"],
                    "capability_scores": {
                        k: [_clean(a), _clean(n)] for k, (a, n) in r.capabilities.items()
                    },
                }
                for r in b.rows
            ],
            "excluded": [{"id": e, "missing": m} for e, m in b.excluded],
            "unnormalised": b.layout.unnormalised,
        }

    @app.get("/api/board.csv")
    def board_csv(request: Request) -> PlainTextResponse:
        return PlainTextResponse(_board(dict(request.query_params)).to_csv(), media_type="text/csv")

    @app.get("/api/board.md")
    def board_md(request: Request) -> PlainTextResponse:
        return PlainTextResponse(_board(dict(request.query_params)).to_markdown())

    @app.get("/board.html")
    def board_html(request: Request) -> HTMLResponse:
        return HTMLResponse(_board(dict(request.query_params)).to_html())

    @app.get("/api/submissions")
    def submissions() -> list[dict[str, Any]]:
        return [
            {
                "id": e.id,
                "model": e.model,
                "org": e.org,
                "date": e.date,
                "datasets": sorted(e.raw),
                "honor_code": e.honor_code,
            }
            for e in store.entries()
        ]

    @app.get("/api/submissions/{sid}")
    def submission(sid: int) -> dict[str, Any]:
        row = store.get(sid)
        if row is None:
            raise fastapi.HTTPException(404, f"no submission {sid}")
        return row

    @app.post("/api/submissions")
    async def upload(request: Request, file: UploadFile = File(...)) -> JSONResponse:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_bytes + 64 * 1024:
            raise SubmissionError(
                f"upload is {int(length):,} bytes; the limit is {max_bytes:,}", status=413
            )
        data = await file.read(max_bytes + 1)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_accept, data)

    def _accept(data: bytes) -> JSONResponse:
        sub = parse_submission(data, bench, gold_ids, max_bytes)
        raw = score_submission(bench, sub, gold)
        record = {
            "registry": bench.name,
            "registry_version": bench.version,
            "registry_sha256": bench.checksum,
            "dataset_checksums": {d: checksums.get(d) for d in sub.predictions},
            "model": sub.meta.get("model", sub.model),
            "runner": sub.meta.get("runner"),
            "templates": sub.meta.get("templates", {}),
            "decoding": sub.meta.get("decoding"),
            "honor_code": sub.honor_code,
            "submitted_meta": sub.meta,
        }
        sid, created = store.add(content_hash(data), sub, raw, record, data)
        return JSONResponse(
            {
                "id": sid,
                "created": created,
                "model": sub.model,
                "scores": raw,
                "honor_code": sub.honor_code,
            },
            status_code=201 if created else 200,
        )

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(
            _PAGE.replace(
                "__TITLE__", html.escape(f"{bench.spec.title or bench.name} {bench.version}")
            )
        )

    app.state.store = store
    return app


def serve(config: CUGEConfig) -> None:
    uvicorn = require("uvicorn", "cuge", "the leaderboard service")
    app = create_app(config)
    uvicorn.run(app, host=config.service.host, port=config.service.port, log_level="info")


# One self-contained page; text from data is inserted with textContent (never as HTML).
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1150px;padding:0 1rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem}th{background:#f3f3f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.error{color:#a00;background:#fee;padding:.4rem .6rem;border-radius:4px}
.ok{color:#064;background:#efe;padding:.4rem .6rem;border-radius:4px}
fieldset{margin:.5rem 0;border:1px solid #ddd}label{margin-right:.8rem;white-space:nowrap}
</style></head><body>
<h1>__TITLE__</h1>
<p>Upload a prediction file (JSON, <code>cuge-submission/1</code>); test labels stay on the
server. Scores are raw (normalised against the baseline = 100).</p>
<form id="upload"><input type="file" id="file" name="file" accept=".json">
<button type="submit" id="upload-btn">Upload</button></form>
<div id="message" role="status"></div>
<h2>Board</h2>
<form id="custom">
<fieldset><legend>Board</legend>
<label><input type="radio" name="board" value="full" checked> full</label>
<label><input type="radio" name="board" value="lite"> lite</label>
<label>aggregator <select id="aggregator"><option>mean</option><option>weighted</option>
<option>harmonic</option><option>geometric</option></select></label>
<label>completeness <select id="completeness"><option>strict</option><option>lenient</option>
</select></label></fieldset>
<fieldset><legend>Custom: capabilities</legend><span id="caps"></span></fieldset>
<fieldset><legend>Custom: datasets</legend><span id="dsets"></span></fieldset>
<label>weights <input id="weights" placeholder="NLU-WSL:2,MR:0.5" size="30"></label>
<button type="submit" id="apply">Build board</button></form>
<p id="board-title"></p>
<table id="board"><thead></thead><tbody></tbody></table>
<p id="excluded"></p>
<script>
const $ = (id) => document.getElementById(id);
function cell(tr, text, cls) { const td = document.createElement('td');
  td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
function checks(target, name, items) { for (const it of items) {
  const l = document.createElement('label'); const c = document.createElement('input');
  c.type = 'checkbox'; c.name = name; c.value = it; l.appendChild(c);
  l.appendChild(document.createTextNode(' ' + it)); target.appendChild(l); } }
async function loadRegistry() { const r = await (await fetch('api/registry')).json();
  checks($('caps'), 'cap', r.capabilities.map(c => c.id));
  checks($('dsets'), 'ds', r.capabilities.flatMap(c => c.tasks.flatMap(
    t => t.datasets.map(d => d.id)))); }
function query() { const p = new URLSearchParams();
  p.set('board', document.querySelector('input[name=board]:checked').value);
  p.set('aggregator', $('aggregator').value); p.set('completeness', $('completeness').value);
  const caps = [...document.querySelectorAll('input[name=cap]:checked')].map(c => c.value);
  const ds = [...document.querySelectorAll('input[name=ds]:checked')].map(c => c.value);
  if (caps.length) p.set('capabilities', caps.join(','));
  if (ds.length) p.set('datasets', ds.join(','));
  if ($('weights').value.trim()) p.set('weights', $('weights').value.trim());
  return p.toString(); }
async function loadBoard() { const res = await fetch('api/board?' + query());
  const b = await res.json(); const head = $('board').tHead, body = $('board').tBodies[0];
  head.replaceChildren(); body.replaceChildren();
  if (!res.ok) { $('board-title').textContent = 'Board error: ' + b.detail; return; }
  $('board-title').textContent = 'Board: ' + b.spec.name + ' (' + b.spec.aggregator + ', ' +
    b.capabilities.length + ' capabilities, ' + b.rows.length + ' entries)';
  const hr = document.createElement('tr');
  for (const h of ['rank', 'model', 'org', 'date', ...b.capabilities, 'index']) {
    const th = document.createElement('th'); th.textContent = h; hr.appendChild(th); }
  head.appendChild(hr);
  for (const r of b.rows) { const tr = document.createElement('tr'); tr.dataset.id = r.id;
    cell(tr, r.rank); cell(tr, r.model + (r.honor_code ? '' : ' [no honor code]'), 'model');
    cell(tr, r.org); cell(tr, r.date.slice(0, 10));
    for (const c of b.capabilities) { const v = r.capability_scores[c];
      cell(tr, v && v[1] !== null ? v[0].toFixed(2) + ' (' + Math.round(v[1]) + ')' : '', 'num'); }
    cell(tr, r.index.toFixed(1) + (r.complete ? '' : ' *'), 'num index'); body.appendChild(tr); }
  $('excluded').textContent = b.excluded.length ?
    b.excluded.length + ' submission(s) left out: missing datasets (strict board).' : ''; }
$('custom').addEventListener('submit', (e) => { e.preventDefault(); loadBoard(); });
$('upload').addEventListener('submit', async (e) => { e.preventDefault();
  const f = $('file').files[0]; const m = $('message');
  if (!f) { m.className = 'error'; m.textContent = 'Choose a file first.'; return; }
  const fd = new FormData(); fd.append('file', f);
  const res = await fetch('api/submissions', {method: 'POST', body: fd});
  const body = await res.json();
  if (res.ok) { m.className = 'ok'; m.textContent = (body.created ? 'Accepted' :
      'Already on the board') + ': submission ' + body.id + ' (' + body.model + ')' +
      (body.honor_code ? '' : '; flagged: honor code not confirmed');
    loadBoard(); }
  else { m.className = 'error'; m.textContent = 'Rejected (' + res.status + '): ' + body.detail; }
});
loadRegistry().then(loadBoard);
</script></body></html>
"""
