"""``gongkai db upgrade``: apply the packaged Alembic migrations to GONGKAI_DATABASE_URL."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="database schema migrations")
    ds = p.add_subparsers(dest="db_command", required=True)
    up = ds.add_parser("upgrade", help="upgrade the schema (default: to the newest revision)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=upgrade)
    down = ds.add_parser("downgrade", help="downgrade the schema to a revision ('base' empties it)")
    down.add_argument("revision")
    down.set_defaults(func=downgrade)
    cur = ds.add_parser("current", help="print the schema revision of the database")
    cur.set_defaults(func=current)


def _db() -> Any:
    from gongkai.server.storage.db import Database
    from gongkai.settings import Settings

    return Database(Settings.from_env().database_url)


def upgrade(args: argparse.Namespace) -> int:
    from gongkai.server.storage import migrate

    db = _db()
    migrate.upgrade(db, args.revision)
    sys.stdout.write(f"database at revision {migrate.current_revision(db)}\n")
    return 0


def downgrade(args: argparse.Namespace) -> int:
    from gongkai.server.storage import migrate

    db = _db()
    migrate.downgrade(db, args.revision)
    sys.stdout.write(f"database at revision {migrate.current_revision(db)}\n")
    return 0


def current(args: argparse.Namespace) -> int:
    from gongkai.server.storage import migrate

    db = _db()
    sys.stdout.write(f"{migrate.current_revision(db) or 'empty'} (head {migrate.head_revision(db)})\n")
    return 0
