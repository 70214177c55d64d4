"""The leaderboard database: SQLite in WAL mode, versioned schema, one transaction per upload.

Uploads are idempotent by the SHA-256 of the file: a second upload of the same bytes returns
the first submission (a UNIQUE column plus ``BEGIN IMMEDIATE`` makes this hold under concurrent
uploads too). The uploaded file is kept (zlib) so a submission can be re-scored later.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError
from ennead.cuge.boards import Entry

MIGRATIONS: list[str] = [
    # 1: submissions and their raw dataset scores
    """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        content_hash TEXT NOT NULL UNIQUE,
        model TEXT NOT NULL,
        org TEXT NOT NULL DEFAULT '',
        links TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL,
        benchmark TEXT NOT NULL,
        benchmark_version TEXT,
        record TEXT NOT NULL,
        size INTEGER NOT NULL,
        file BLOB NOT NULL
    );
    CREATE TABLE scores (
        submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
        dataset TEXT NOT NULL,
        metric TEXT NOT NULL,
        raw REAL NOT NULL,
        PRIMARY KEY (submission_id, dataset, metric)
    );
    CREATE INDEX scores_dataset ON scores(dataset);
    """,
]


class BoardStore:
    """Submissions and scores in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
                version = row[0] or 0
                if version > len(MIGRATIONS):
                    raise DataError(
                        f"database schema version {version} is newer than this ennead "
                        f"({len(MIGRATIONS)}); upgrade ennead",
                        self.path,
                    )
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in filter(str.strip, script.split(";")):
                        db.execute(statement)
                    db.execute("INSERT INTO schema_version VALUES (?)", (number,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(MIGRATIONS)

    def schema_version(self) -> int:
        with self.connect() as db:
            return int(db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    def add(
        self,
        content_hash: str,
        sub: Any,
        raw: Mapping[str, Mapping[str, float]],
        record: Mapping[str, Any],
        data: bytes,
    ) -> tuple[int, bool]:
        """Store a scored submission in one transaction; ``(id, created)``."""
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT id FROM submissions WHERE content_hash = ?", (content_hash,)
                ).fetchone()
                if row is not None:
                    db.execute("ROLLBACK")
                    return int(row[0]), False
                cur = db.execute(
                    "INSERT INTO submissions (content_hash, model, org, links, created, benchmark, "
                    "benchmark_version, record, size, file) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        content_hash,
                        sub.model,
                        sub.org,
                        json.dumps(sub.links),
                        now,
                        sub.benchmark,
                        sub.benchmark_version,
                        json.dumps(record, ensure_ascii=False),
                        len(data),
                        zlib.compress(data),
                    ),
                )
                sid = int(cur.lastrowid or 0)
                db.executemany(
                    "INSERT INTO scores VALUES (?,?,?,?)",
                    [(sid, d, m, float(v)) for d, ms in raw.items() for m, v in ms.items()],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return sid, True

    def entries(self) -> list[Entry]:
        with self.connect() as db:
            subs = db.execute(
                "SELECT id, model, org, created, record, links FROM submissions ORDER BY id"
            ).fetchall()
            scores = db.execute("SELECT submission_id, dataset, metric, raw FROM scores").fetchall()
        raw: dict[int, dict[str, dict[str, float]]] = {}
        for sid, d, m, v in scores:
            raw.setdefault(sid, {}).setdefault(d, {})[m] = v
        out = []
        for sid, model, org, created, record, links in subs:
            rec = json.loads(record)
            meta = {"record": rec, "links": json.loads(links)}
            honor = rec.get("honor_code", True) is not False
            out.append(Entry(str(sid), model, raw.get(sid, {}), org, created, meta, honor))
        return out

    def get(self, sid: int) -> dict[str, Any] | None:
        with self.connect() as db:
            row = db.execute(
                "SELECT id, content_hash, model, org, links, created, benchmark, "
                "benchmark_version, "
                "record, size FROM submissions WHERE id = ?",
                (sid,),
            ).fetchone()
            if row is None:
                return None
            scores = db.execute(
                "SELECT dataset, metric, raw FROM scores WHERE submission_id = ?", (sid,)
            ).fetchall()
        keys = (
            "id",
            "content_hash",
            "model",
            "org",
            "links",
            "created",
            "benchmark",
            "benchmark_version",
            "record",
            "size",
        )
        out = dict(zip(keys, row))
        out["links"], out["record"] = json.loads(out["links"]), json.loads(out["record"])
        raw: dict[str, dict[str, float]] = {}
        for d, m, v in scores:
            raw.setdefault(d, {})[m] = v
        out["scores"] = raw
        return out

    def file(self, sid: int) -> bytes | None:
        with self.connect() as db:
            row = db.execute("SELECT file FROM submissions WHERE id = ?", (sid,)).fetchone()
        return None if row is None else zlib.decompress(row[0])

    def count(self) -> int:
        with self.connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0])

    def integrity(self) -> str:
        with self.connect() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])
