"""``gongkai keys create --role reviewer``: API keys (printed once, stored hashed), list, revoke."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gongkai.server.storage.keys import ROLES, SCOPES


def register(sub: Any) -> None:
    p = sub.add_parser("keys", help="manage API keys")
    ks = p.add_subparsers(dest="keys_command", required=True)
    c = ks.add_parser("create", help="create a key and print it once")
    c.add_argument("--role", choices=ROLES, required=True)
    c.add_argument("--name", default="", help="who or what the key is for")
    c.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="documents an uploader key sees: own (default for uploaders) or all; others see all",
    )
    c.set_defaults(func=create)
    ls = ks.add_parser("list", help="list keys (never their secrets)")
    ls.set_defaults(func=list_keys)
    rv = ks.add_parser("revoke", help="revoke a key by its id")
    rv.add_argument("key_id")
    rv.set_defaults(func=revoke)


def _db() -> Any:
    from gongkai.server.storage import migrate
    from gongkai.server.storage.db import Database
    from gongkai.settings import Settings

    settings = Settings.from_env()
    db = Database(settings.database_url)
    if settings.auto_migrate:
        migrate.upgrade(db)
    return db


def create(args: argparse.Namespace) -> int:
    from gongkai.server.storage import repository as repo

    db = _db()
    with db.session() as s:
        row, plaintext = repo.create_key(s, args.role, args.name, scope=args.scope)
        key_id, scope = row.id, row.scope
    sys.stderr.write(f"created {args.role} key {key_id} (scope {scope}); it is shown once, store it now:\n")
    sys.stdout.write(plaintext + "\n")
    return 0


def list_keys(args: argparse.Namespace) -> int:
    from gongkai.server.storage import repository as repo

    with _db().session() as s:
        for k in repo.list_keys(s):
            state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
            sys.stdout.write(f"{k.id}\t{k.role}\t{k.scope}\t{state}\t{k.name}\n")
    return 0


def revoke(args: argparse.Namespace) -> int:
    from gongkai.errors import InputError
    from gongkai.server.storage import repository as repo

    with _db().session() as s:
        if repo.revoke_key(s, args.key_id, None) is None:
            raise InputError(f"no key {args.key_id}")
    sys.stdout.write(f"revoked {args.key_id}\n")
    return 0
