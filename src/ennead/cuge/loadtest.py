"""A bounded load test of the leaderboard service on loopback.

Starts the service with uvicorn on 127.0.0.1 in a background thread, sends ``uploads`` distinct
submissions from ``clients`` concurrent clients while ``readers`` clients keep reading the board,
then checks that every accepted submission is on the board, that each stored row holds the scores
of its own file (recomputed here, so crossed or partial rows show), and that SQLite reports no
corruption. With ``serial`` > 0 it first times that many uploads one at a time: the baseline
that the concurrent throughput is compared with in the same run. Everything stops by itself (a
deadline bounds the run).
"""

from __future__ import annotations

import copy
import json
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ennead.core.errors import EnneadError
from ennead.core.imports import require
from ennead.cuge.config import CUGEConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def variants(base: dict[str, Any], n: int) -> list[bytes]:
    """``n`` distinct submissions derived from ``base`` (other model name, other math answers)."""
    out = []
    math_items = base["predictions"].get("synth-math", [])
    for i in range(n):
        sub = copy.deepcopy(base)
        sub["model"] = f"load-{i:04d}"
        for j, item in enumerate(sub["predictions"].get("synth-math", [])):
            if math_items and (i >> (j % 8)) & 1:
                item["prediction"] = "0"
        out.append(json.dumps(sub, ensure_ascii=False).encode("utf-8"))
    return out


def run_load(
    config: CUGEConfig,
    base_submission: dict[str, Any],
    uploads: int = 200,
    clients: int = 8,
    readers: int = 2,
    deadline_s: float = 240.0,
    serial: int = 0,
) -> dict[str, Any]:
    """Run the load test; returns latencies (ms), counts and the consistency checks."""
    httpx = require("httpx", "cuge", "the load test")
    uvicorn = require("uvicorn", "cuge", "the load test")
    from ennead.cuge.service import create_app

    app = create_app(config)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    t_end = time.monotonic() + deadline_s
    while not server.started:
        if time.monotonic() > t_end or not thread.is_alive():
            raise EnneadError("the service did not start")
        time.sleep(0.05)
    bodies = variants(base_submission, uploads + serial)
    serial_ms: list[float] = []
    with httpx.Client(base_url=url, timeout=60.0) as client:
        for j in range(serial):
            files = {"file": (f"serial{j}.json", bodies[uploads + j], "application/json")}
            t0 = time.perf_counter()
            r = client.post("/api/submissions", files=files)
            serial_ms.append(1000 * (time.perf_counter() - t0))
            if r.status_code != 201:
                raise EnneadError(f"serial upload failed: {r.status_code} {r.text[:200]}")
    upload_ms: list[float] = []
    read_ms: list[float] = []
    statuses: dict[int, int] = {}
    accepted: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def upload(i: int) -> None:
        if time.monotonic() > t_end:
            return
        with httpx.Client(base_url=url, timeout=60.0) as client:
            t0 = time.perf_counter()
            files = {"file": (f"s{i}.json", bodies[i], "application/json")}
            r = client.post("/api/submissions", files=files)
            ms = 1000 * (time.perf_counter() - t0)
        with lock:
            upload_ms.append(ms)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code in (200, 201):
                accepted.append(int(r.json()["id"]))

    def read() -> None:
        with httpx.Client(base_url=url, timeout=60.0) as client:
            while not done.is_set() and time.monotonic() < t_end:
                t0 = time.perf_counter()
                r = client.get("/api/board")
                ms = 1000 * (time.perf_counter() - t0)
                if r.status_code != 200:
                    raise EnneadError(f"board read failed: {r.status_code} {r.text[:200]}")
                with lock:
                    read_ms.append(ms)

    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(readers) as rpool:
            read_futures = [rpool.submit(read) for _ in range(readers)]
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(upload, range(uploads)))
            done.set()
            for f in read_futures:
                f.result()
        wall = time.perf_counter() - t0
        with httpx.Client(base_url=url, timeout=60.0) as client:
            board = client.get("/api/board").json()
            health = client.get("/healthz").json()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    on_board = {int(r["id"]) for r in board["rows"]}
    store = app.state.store
    mismatched = _check_scores(config, bodies, store, accepted)
    return {
        "uploads": uploads,
        "clients": clients,
        "readers": readers,
        "statuses": statuses,
        "accepted": len(accepted),
        "all_accepted_on_board": set(accepted) <= on_board,
        "board_rows": len(board["rows"]),
        "db_submissions": health["submissions"],
        "integrity_check": store.integrity(),
        "scores_checked": len(accepted),
        "scores_mismatched": mismatched,
        "schema_version": health["schema"],
        "wall_s": round(wall, 2),
        "uploads_per_s": round(uploads / wall, 2),
        "upload_ms": {
            "p50": round(_percentile(upload_ms, 50), 1),
            "p95": round(_percentile(upload_ms, 95), 1),
            "max": round(max(upload_ms, default=float("nan")), 1),
            "mean": round(statistics.fmean(upload_ms), 1) if upload_ms else None,
        },
        "board_reads": len(read_ms),
        "read_ms": {
            "p50": round(_percentile(read_ms, 50), 1),
            "p95": round(_percentile(read_ms, 95), 1),
        },
        "serial_ms": {"p50": round(_percentile(serial_ms, 50), 1), "n": len(serial_ms)},
    }


def _check_scores(config: CUGEConfig, bodies: list[bytes], store: Any, ids: list[int]) -> list[int]:
    """Ids whose stored scores differ from scoring their own file again (crossed rows)."""
    from ennead.cuge.benchmark import load_benchmark
    from ennead.cuge.data import load_gold
    from ennead.cuge.submission import parse_submission, score_submission

    bench = load_benchmark(config.benchmark)
    gold = load_gold(bench, config.data_dir)
    gold_ids = {d: [str(r["id"]) for r in rows] for d, rows in gold.items()}
    by_model = {}
    for body in bodies:
        sub = parse_submission(body, bench, gold_ids, len(body) + 1)
        by_model[sub.model] = score_submission(bench, sub, gold)
    bad = []
    for sid in ids:
        row = store.get(sid)
        want = by_model.get(row["model"]) if row else None
        if want is None or row["scores"] != want:
            bad.append(sid)
    return bad
