"""A sqlite response cache keyed by sha256 of the request, so reruns of a model are free."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, check_same_thread=False)
        self._con.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT)")
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(request: Any) -> str:
        blob = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, request: Any) -> str | None:
        with self._lock:
            row = self._con.execute(
                "SELECT value FROM responses WHERE key = ?", (self.key(request),)
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return str(row[0])

    def put(self, request: Any, value: str) -> None:
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?)", (self.key(request), value)
            )
            self._con.commit()

    def close(self) -> None:
        self._con.close()
