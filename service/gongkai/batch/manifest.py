"""The manifest: SQLite in the output folder, the batch's memory across runs and crashes.

``documents`` has one row per distinct content (sha256) with its state: ``queued`` → ``running`` →
``done`` or ``failed``. ``files`` maps every path met (folder file or archive member) to its content,
so duplicates are listed. ``events`` is the append-only history (``start``, ``done``, ``failed``,
``requeued``): the tests read it to prove no document was completed twice.

Crash safety: the result file is written (atomically) before the ``done`` transaction. After a
kill, a ``running`` row whose result file exists finished: it is marked done without running
again; any other ``running`` row is queued again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    sha256 TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL,
    kind TEXT,
    error_code TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    pages INTEGER,
    seconds REAL,
    format TEXT,
    title TEXT,
    year INTEGER,
    agency TEXT,
    region TEXT,
    failing_checks INTEGER,
    review_cells INTEGER,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    sha256 TEXT,
    size INTEGER,
    mtime REAL,
    error_code TEXT,
    error TEXT,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT,
    event TEXT NOT NULL,
    at REAL NOT NULL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    argv TEXT
);
"""

MANIFEST_NAME = "manifest.sqlite"


@dataclass
class DocRow:
    sha256: str
    status: str
    path: str
    size: int
    mtime: float | None
    kind: str | None
    error_code: str | None
    error: str | None
    attempts: int
    pages: int | None
    seconds: float | None
    format: str | None
    title: str | None
    year: int | None
    agency: str | None
    region: str | None
    failing_checks: int | None
    review_cells: int | None


class Manifest:
    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST_NAME
        # autocommit mode; every change below is one explicit transaction.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _tx(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                db.execute(sql, params)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # --- identity -----------------------------------------------------------------------------

    def batch_id(self) -> str:
        """A random id made once per output folder: names this batch's keys on a broker across runs."""
        import uuid

        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('batch_id', ?)", (uuid.uuid4().hex,)
        )
        return str(self._db.execute("SELECT value FROM meta WHERE key = 'batch_id'").fetchone()[0])

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, argv: list[str]) -> int:
        cur = self._db.execute(
            "INSERT INTO runs (started_at, argv) VALUES (?, ?)",
            (time.time(), json.dumps(argv, ensure_ascii=False)),
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int) -> None:
        self._db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (time.time(), run_id))

    # --- recovery -----------------------------------------------------------------------------

    def running(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT sha256 FROM documents WHERE status = 'running'")]

    def requeue(self, sha256: str) -> None:
        self._tx(
            [
                (
                    "UPDATE documents SET status = 'queued', updated_at = ? WHERE sha256 = ?",
                    (time.time(), sha256),
                ),
                (
                    "INSERT INTO events (sha256, event, at, detail) VALUES (?, 'requeued', ?, ?)",
                    (sha256, time.time(), "was running when the previous run stopped"),
                ),
            ]
        )

    # --- files and documents ------------------------------------------------------------------

    def record_file(
        self,
        path: str,
        sha256: str | None,
        size: int,
        mtime: float | None,
        error_code: str | None = None,
        error: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO files (path, sha256, size, mtime, error_code, error, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
            "mtime = excluded.mtime, error_code = excluded.error_code, error = excluded.error, "
            "seen_at = excluded.seen_at",
            (path, sha256, size, mtime, error_code, error, time.time()),
        )

    def get(self, sha256: str) -> DocRow | None:
        row = self._db.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return _doc(row) if row else None

    def add(self, sha256: str, path: str, size: int, mtime: float | None) -> None:
        self._db.execute(
            "INSERT INTO documents (sha256, status, path, size, mtime, updated_at) "
            "VALUES (?, 'queued', ?, ?, ?, ?)",
            (sha256, path, size, mtime, time.time()),
        )

    def mark_running(self, sha256: str) -> None:
        now = time.time()
        self._tx(
            [
                (
                    "UPDATE documents SET status = 'running', attempts = attempts + 1, updated_at = ? "
                    "WHERE sha256 = ?",
                    (now, sha256),
                ),
                ("INSERT INTO events (sha256, event, at) VALUES (?, 'start', ?)", (sha256, now)),
            ]
        )

    def mark_done(self, sha256: str, fields: dict[str, Any], detail: str | None = None) -> None:
        """One transaction: the row's outcome and the ``done`` event (the result file is already written)."""
        self._finish(sha256, "done", {**fields, "error_code": None, "error": None}, detail)

    def mark_failed(self, sha256: str, fields: dict[str, Any]) -> None:
        self._finish(sha256, "failed", fields, fields.get("error_code"))

    def _finish(self, sha256: str, status: str, fields: dict[str, Any], detail: str | None) -> None:
        allowed = set(DocRow.__dataclass_fields__) - {"sha256", "status", "path", "size", "mtime", "attempts"}
        cols = [k for k in fields if k in allowed]
        sets = "".join(f"{c} = ?, " for c in cols)
        now = time.time()
        self._tx(
            [
                (
                    f"UPDATE documents SET status = ?, {sets}updated_at = ? WHERE sha256 = ?",
                    (status, *(fields[c] for c in cols), now, sha256),
                ),
                (
                    "INSERT INTO events (sha256, event, at, detail) VALUES (?, ?, ?, ?)",
                    (sha256, status, now, detail),
                ),
            ]
        )

    # --- reading back -------------------------------------------------------------------------

    def documents(self) -> Iterator[DocRow]:
        for row in self._db.execute("SELECT * FROM documents ORDER BY path"):
            yield _doc(row)

    def files(self) -> list[sqlite3.Row]:
        return list(self._db.execute("SELECT * FROM files ORDER BY path"))

    def events(self, event: str | None = None) -> list[sqlite3.Row]:
        if event is None:
            return list(self._db.execute("SELECT * FROM events ORDER BY id"))
        return list(self._db.execute("SELECT * FROM events WHERE event = ? ORDER BY id", (event,)))


def _doc(row: sqlite3.Row) -> DocRow:
    keys = [k for k in row.keys() if k != "updated_at"]  # noqa: SIM118 - a Row iterates over values
    return DocRow(**{k: row[k] for k in keys})
