"""Run the packaged Alembic migrations programmatically (``gongkai db upgrade``; no alembic.ini)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from gongkai.server.storage.db import Database

# Any fixed 64-bit number, the same in every process: the key of the migration advisory lock.
_MIGRATION_LOCK_KEY = 0x67_6F_6E_67_6B_61_69  # "gongkai"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    # A package resource path, so migrations work from an installed wheel, not just a checkout.
    cfg.set_main_option("script_location", "gongkai.server.storage:migrations")
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def _lock(conn: Connection) -> None:
    """Serialize migrations across processes: several servers and workers starting at once on a fresh
    PostgreSQL database would otherwise all create the same tables and types, and all but one fail.
    A transaction-level lock, released by the commit, after which the next one finds nothing to do.
    SQLite gets none: one file is migrated by the one server in front of it (not tested concurrently)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})


def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        _lock(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(db: Database, revision: str) -> None:
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        _lock(conn)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
