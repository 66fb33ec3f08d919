"""Races (issue 11): concurrent retries of one document, concurrent first migrations on PostgreSQL."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")
pytest.importorskip("alembic", reason="the service extra is not installed")

from sqlalchemy import func, select

from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.models import JobRow
from tests.server.api_support import Service, service
from tests.server.postgres import fresh_database_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the loopback server, dropped afterwards."""
    with fresh_database_url("gongkai_race") as url:
        yield url


# --- retry --------------------------------------------------------------------------------------


def _failed_document(svc: Service) -> str:
    db = Database(svc.settings.database_url)
    try:
        with db.session() as s:
            doc, job = repo.create_document(
                s,
                sha256=uuid.uuid4().hex * 2,
                media_type="application/pdf",
                size=10,
                filename="x.pdf",
                pages=1,
                key_id=svc.keys["uploader"].split("_")[1],
                max_attempts=3,
            )
            doc.status, doc.error_code, doc.error_message = "failed", "not_a_report", "not a report"
            job.status = "failed"
            return doc.id
    finally:
        db.dispose()


def _job_count(svc: Service, doc_id: str) -> int:
    db = Database(svc.settings.database_url)
    try:
        with db.session() as s:
            return int(s.scalar(select(func.count()).where(JobRow.document_id == doc_id)) or 0)
    finally:
        db.dispose()


def _concurrent_retries(svc: Service, monkeypatch: pytest.MonkeyPatch, n: int = 4) -> None:
    doc_id = _failed_document(svc)
    # Every request reads the document as failed before any of them writes: the race, made certain.
    barrier = threading.Barrier(n)
    original = repo.get_document

    def get_then_wait(s: Any, document_id: str) -> Any:
        row = original(s, document_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return row

    monkeypatch.setattr(repo, "get_document", get_then_wait)

    def post(_: int) -> int:
        r = svc.client.post(f"/v1/documents/{doc_id}/retry", headers=svc.h("uploader"))
        return r.status_code

    with ThreadPoolExecutor(n) as pool:
        codes = sorted(pool.map(post, range(n)))
    assert codes == [202] + [409] * (n - 1)
    assert _job_count(svc, doc_id) == 2  # the first run and exactly one retry


def test_concurrent_retries_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for svc in service(tmp_path, workers=0):
        _concurrent_retries(svc, monkeypatch)


def test_concurrent_retries_postgresql(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for svc in service(tmp_path, workers=0, database_url=pg_url):
        _concurrent_retries(svc, monkeypatch)


# --- first migrations ---------------------------------------------------------------------------


def _upgrade(url: str, barrier: Any) -> None:
    db = Database(url)
    barrier.wait(timeout=60)
    try:
        migrate.upgrade(db)
    finally:
        db.dispose()


def test_concurrent_first_migrations_postgresql(pg_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_upgrade, args=(pg_url, barrier)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    db = Database(pg_url)
    try:
        assert migrate.current_revision(db) == migrate.head_revision(db)
    finally:
        db.dispose()
