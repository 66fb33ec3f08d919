"""``gongkai worker``: run jobs outside the API process.

With ``GONGKAI_BROKER_URL=redis://…`` it is a Celery worker; without, it polls the database like the
local pool does (useful beside an API started with ``--workers 0``). ``--once`` runs what is due and exits.
"""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("worker", help="run extraction jobs (Celery on Redis, or polling the database)")
    p.add_argument("--concurrency", type=int, default=None, help="parallel jobs (default: GONGKAI_WORKERS)")
    p.add_argument("--once", action="store_true", help="run the jobs that are due, then exit")
    p.add_argument("--loglevel", default="INFO")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gongkai.server.storage import migrate
    from gongkai.server.storage.db import Database
    from gongkai.settings import Settings

    settings = Settings.from_env()
    if args.concurrency is not None:
        settings = settings.with_overrides(workers=args.concurrency)
    db = Database(settings.database_url)
    if settings.auto_migrate:
        migrate.upgrade(db)
    if args.once:
        from gongkai.server.jobs.runner import drain, worker_name
        from gongkai.server.storage.files import LocalFileStore

        n = drain(db, LocalFileStore(settings.data_dir), settings, worker_name("once"))
        print(f"ran {n} jobs")
        return 0
    db.dispose()
    if settings.broker_url:
        from gongkai.server.jobs.celery_app import make_celery

        # As in the local pool: N prefork children OCR'ing with a page pool each would oversubscribe.
        concurrency = max(1, settings.workers)
        app = make_celery(settings.with_overrides(pipeline=settings.pipeline.sharing_cores(concurrency)))
        app.worker_main(
            [
                "worker",
                "--queues",
                "gongkai",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                args.loglevel,
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
            ]
        )
        return 0
    from gongkai.server.jobs.pool import LocalPool

    pool = LocalPool(settings.with_overrides(workers=max(1, settings.workers)))
    pool.start()
    stopped = False

    def _stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # The pool's supervisor restarts dead workers, so a moment with none alive is no reason to exit.
    while not stopped:
        time.sleep(0.5)
    pool.stop()
    return 0
