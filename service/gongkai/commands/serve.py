"""``gongkai serve``: the HTTP API under uvicorn, with a local worker pool unless Celery is configured."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (and, by default, a local worker pool)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--workers", type=int, help="local job workers (default GONGKAI_WORKERS or 2; 0 = none)")
    p.add_argument("--pool", choices=("process", "thread"), help="local workers as processes or threads")
    p.add_argument("--no-migrate", action="store_true", help="do not upgrade the database schema at start")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from gongkai.server.api.app import create_app
    from gongkai.settings import Settings

    overrides: dict[str, object] = {}
    if args.workers is not None:
        overrides["workers"] = args.workers
    if args.pool:
        overrides["pool"] = args.pool
    if args.no_migrate:
        overrides["auto_migrate"] = False
    settings = Settings.from_env(**overrides)
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0
