"""The Celery sweeper (issue 11, item 11): a queued job is sent once per dispatch timeout, not every sweep;
and the migration adding ``jobs.dispatched_at`` upgrades a 0001 database on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")
pytest.importorskip("alembic", reason="the service extra is not installed")
pytest.importorskip("celery", reason="the service extra is not installed")

from sqlalchemy import inspect, text, update

from gongkai.server.jobs.pool import CeleryDispatcher
from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.models import JobRow, utcnow
from tests.server.api_support import make_settings
from tests.server.postgres import fresh_database_url

TIMEOUT = 600.0


class FakeApp:
    """Stands in for the Celery app: counts the messages instead of sending them."""

    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()
        self.down = False

    def send_task(self, name: str, args: list[Any]) -> None:
        assert name == "gongkai.run_job"
        if self.down:
            raise ConnectionError("broker down")
        self.sent[int(args[0])] += 1


@pytest.fixture
def dispatcher(tmp_path: Path) -> Iterator[tuple[CeleryDispatcher, FakeApp]]:
    # Nothing listens on port 1: the real Celery app is never used, its sends go to the fake.
    settings = make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0")
    db = Database(settings.database_url)
    migrate.upgrade(db)
    d = CeleryDispatcher(settings, db, dispatch_timeout=TIMEOUT)
    fake = FakeApp()
    d.app = fake  # type: ignore[assignment]
    yield d, fake
    db.dispose()


def _queue(db: Database, n: int) -> list[int]:
    with db.session() as s:
        key, _ = repo.create_key(s, "uploader", "t")
        ids = []
        for i in range(n):
            _, job = repo.create_document(
                s,
                sha256=f"{i:064x}",
                media_type="application/pdf",
                size=3,
                filename=f"{i}.pdf",
                pages=1,
                key_id=key.id,
                max_attempts=3,
            )
            s.flush()
            ids.append(job.id)
    return ids


def _age_dispatch(db: Database, seconds: float) -> None:
    """Move every recorded dispatch ``seconds`` into the past (instead of sleeping through the timeout)."""
    with db.session() as s:
        s.execute(
            update(JobRow)
            .where(JobRow.dispatched_at.is_not(None))
            .values(dispatched_at=utcnow() - timedelta(seconds=seconds))
        )


def test_sweeps_within_the_timeout_send_each_job_once(dispatcher: tuple[CeleryDispatcher, FakeApp]) -> None:
    d, fake = dispatcher
    ids = _queue(d.db, 5)
    for _ in range(25):  # 25 sweeps with no worker: was 25 messages per job
        d.sweep()
    assert fake.sent == Counter({i: 1 for i in ids})
    # Just inside the timeout: still nothing new.
    _age_dispatch(d.db, TIMEOUT - 5)
    assert d.sweep() == 0
    # Past it: each job is sent once more, and only once.
    _age_dispatch(d.db, TIMEOUT + 1)
    assert d.sweep() == 5
    for _ in range(5):
        assert d.sweep() == 0
    assert fake.sent == Counter({i: 2 for i in ids})


def test_notified_jobs_are_not_swept_again(dispatcher: tuple[CeleryDispatcher, FakeApp]) -> None:
    d, fake = dispatcher
    ids = _queue(d.db, 3)
    for i in ids:  # what the upload route does
        d.notify(i)
    assert d.sweep() == 0
    assert fake.sent == Counter({i: 1 for i in ids})


def test_failed_sends_are_retried_at_the_next_sweep(dispatcher: tuple[CeleryDispatcher, FakeApp]) -> None:
    d, fake = dispatcher
    ids = _queue(d.db, 2)
    fake.down = True
    d.notify(ids[0])
    assert d.sweep() == 0  # broker down: nothing recorded as sent
    fake.down = False
    assert d.sweep() == 2
    assert d.sweep() == 0
    assert fake.sent == Counter({i: 1 for i in ids})


def test_a_dead_workers_job_is_resent_once_its_lease_expires(
    dispatcher: tuple[CeleryDispatcher, FakeApp],
) -> None:
    d, fake = dispatcher
    (job_id,) = _queue(d.db, 1)
    d.notify(job_id)
    with d.db.session() as s:
        assert repo.try_claim(s, job_id, "dead", 30)
    assert d.sweep() == 0  # running under a live lease
    _age_dispatch(d.db, 10)  # sent 10 s ago, claimed, then ...
    with d.db.session() as s:  # the worker died; its lease ran out after the send
        s.execute(
            update(JobRow).where(JobRow.id == job_id).values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert d.sweep() == 1
    assert d.sweep() == 0  # sent since the lease expired: not again before the timeout
    assert fake.sent[job_id] == 2


def test_jobs_not_yet_due_are_not_sent(dispatcher: tuple[CeleryDispatcher, FakeApp]) -> None:
    d, fake = dispatcher
    (job_id,) = _queue(d.db, 1)
    with d.db.session() as s:
        s.execute(
            update(JobRow).where(JobRow.id == job_id).values(not_before=utcnow() + timedelta(seconds=60))
        )
    assert d.sweep() == 0
    assert not fake.sent


# --- the migration ------------------------------------------------------------------------------


def _upgrade_from_0001(db: Database) -> None:
    migrate.upgrade(db, "0001")
    assert "dispatched_at" not in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    now = utcnow()
    with db.engine.begin() as conn:  # a 0001 row, written without the models (which have the new column)
        conn.execute(
            text(
                "INSERT INTO api_keys (id, name, role, salt, secret_hash, created_at)"
                " VALUES ('k1', 't', 'uploader', 's', 'h', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO documents (id, sha256, media_type, size, filename, status, uploaded_by,"
                " created_at, updated_at) VALUES ('d1', :sha, 'application/pdf', 3, 'x.pdf', 'queued', 'k1',"
                " :now, :now)"
            ),
            {"sha": "b" * 64, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO jobs (document_id, status, stage, attempts, max_attempts, not_before,"
                " requested_by, created_at) VALUES ('d1', 'queued', 'queued', 0, 3, :now, 'k1', :now)"
            ),
            {"now": now},
        )
    migrate.upgrade(db, "0002")
    assert migrate.current_revision(db) == "0002"
    assert "dispatched_at" in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    with db.session() as s:
        (job_id,) = repo.dispatchable_job_ids(s, TIMEOUT)  # the old row: never dispatched, so due
        repo.mark_dispatched(s, [job_id])
    with db.session() as s:
        assert repo.dispatchable_job_ids(s, TIMEOUT) == []
    migrate.downgrade(db, "0001")
    assert "dispatched_at" not in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 1


def test_migration_0002_upgrades_a_0001_database_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        _upgrade_from_0001(db)
    finally:
        db.dispose()


def test_migration_0002_upgrades_a_0001_database_postgresql() -> None:
    with fresh_database_url() as url:
        db = Database(url)
        try:
            _upgrade_from_0001(db)
        finally:
            db.dispose()
