"""Storage: migrations on SQLite and PostgreSQL, the content-addressed store, hashed keys, claims."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")
pytest.importorskip("alembic", reason="the service extra is not installed")

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore, SpoolTooLarge
from gongkai.server.storage.models import ApiKey, Base
from tests.server.postgres import fresh_database_url


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'var' / 'g.db'}")
    yield db
    db.dispose()


@pytest.fixture
def pg_db() -> Iterator[Database]:
    """A throwaway PostgreSQL database for this test, dropped afterwards."""
    with fresh_database_url() as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


def _roundtrip(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision(db)
    with db.engine.connect() as conn:
        # The migrations build exactly the tables the models describe.
        assert (
            compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            == []
        )
    with db.session() as s:
        key, plaintext = repo.create_key(s, "uploader", "t")
        _, job = repo.create_document(
            s,
            sha256="a" * 64,
            media_type="application/pdf",
            size=3,
            filename="x.pdf",
            pages=1,
            key_id=key.id,
            max_attempts=3,
        )
    # Two workers race for one job: exactly one wins.
    with db.session() as s1:
        won = [repo.try_claim(s1, job.id, "w1", 30)]
    with db.session() as s2:
        won.append(repo.try_claim(s2, job.id, "w2", 30))
    assert won == [True, False]
    with db.session() as s:
        assert repo.verify_key(s, plaintext) is not None
        assert (
            repo.list_documents(s, repo.DocumentFilter(agency="%"), 10, 0)[1] == 0
        )  # LIKE wildcards escaped
    migrate.downgrade(db, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_migrations_sqlite(sqlite_db: Database) -> None:
    _roundtrip(sqlite_db)
    migrate.upgrade(sqlite_db)
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_postgresql(pg_db: Database) -> None:
    assert pg_db.backend == "postgresql"
    _roundtrip(pg_db)


def test_db_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gongkai.cli import main

    monkeypatch.setenv("GONGKAI_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    assert main(["db", "upgrade"]) == 0
    head = migrate.head_revision(Database(f"sqlite:///{tmp_path / 'c.db'}"))
    assert f"revision {head}" in capsys.readouterr().out
    assert main(["keys", "create", "--role", "reviewer", "--name", "alice"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("gk_") and "shown once" in out.err
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    with db.session() as s:
        row = s.get(ApiKey, key.split("_")[1])
        assert row is not None and row.role == "reviewer"
        # Only a salted hash is stored: the secret appears nowhere in the row.
        assert key.split("_")[2] not in (row.secret_hash, row.salt) and len(row.secret_hash) == 64
        assert repo.verify_key(s, key) is not None
        assert repo.verify_key(s, key[:-1] + ("0" if key[-1] != "0" else "1")) is None
    assert main(["keys", "list"]) == 0
    assert "alice" in capsys.readouterr().out and key not in capsys.readouterr().out
    assert main(["keys", "revoke", key.split("_")[1]]) == 0
    with db.session() as s:
        assert repo.verify_key(s, key) is None
    assert main(["keys", "revoke", "ffffffffffff"]) == 2


def test_file_store_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "data")
    payload = b"%PDF-1.7 hello"
    with store.spool(io.BytesIO(payload), max_bytes=1000) as (tmp, sha, size):
        assert size == len(payload) and tmp.parent == store.tmp
        assert store.put_file(tmp, sha) is True
    assert store.get(sha) == payload and store.path_for(sha).name == sha
    assert list(store.tmp.iterdir()) == []
    with store.spool(io.BytesIO(payload), max_bytes=1000) as (tmp, sha2, _):
        assert sha2 == sha and store.put_file(tmp, sha2) is False  # already there
    assert list(store.tmp.iterdir()) == []
    with pytest.raises(SpoolTooLarge), store.spool(io.BytesIO(b"x" * 5000), max_bytes=1000):
        pass
    assert list(store.tmp.iterdir()) == []  # nothing half-written
    for bad in ("../../etc/passwd", "A" * 64, ""):
        with pytest.raises(ValueError):
            store.path_for(bad)
    with pytest.raises(ValueError):
        store.derived_path(sha, "../x.png")


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from gongkai.settings import Settings

    monkeypatch.setenv("GONGKAI_MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("GONGKAI_BROKER_URL", "redis://127.0.0.1:6379/3")
    s = Settings.from_env()
    assert s.max_upload_bytes == 1234 and s.broker_url == "redis://127.0.0.1:6379/3"
    assert s.database_url.startswith("sqlite:///var/")
    monkeypatch.setenv("GONGKAI_WORKERS", "many")
    with pytest.raises(ValueError, match="GONGKAI_WORKERS"):
        Settings.from_env()
