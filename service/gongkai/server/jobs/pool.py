"""Dispatchers: how the API tells workers that a job is waiting.

``LocalPool`` runs N workers inside ``gongkai serve`` (processes by default, threads for tests);
each polls the database and is woken early by a semaphore when an upload arrives.
``CeleryDispatcher`` sends the job id to Celery workers on Redis, and a sweeper re-sends jobs
that are due but were not taken (a lost message, a worker killed mid-job).
Either way the job row is the truth: a restart finds queued and expired jobs and runs them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import threading
from typing import Any, Protocol

from gongkai.server.jobs.locks import PDFIUM_LOCK
from gongkai.server.jobs.runner import Outcome, run_next, worker_name
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings

log = logging.getLogger("gongkai.jobs")


class Dispatcher(Protocol):
    def start(self) -> None: ...

    def notify(self, job_id: int) -> None: ...

    def stop(self) -> None: ...


class NoWorkers:
    """Jobs stay queued in the database until some worker takes them."""

    def start(self) -> None:
        pass

    def notify(self, job_id: int) -> None:
        pass

    def stop(self) -> None:
        pass


def worker_loop(
    settings: Settings, name: str, stop: Any, wake: Any, guard: Any = None, orphaned: Any = None
) -> None:
    db = Database(settings.database_url)
    store = LocalFileStore(settings.data_dir)
    # Threads share PDFium with the API's page renderer, and PDFium is not thread-safe.
    guard = guard or contextlib.nullcontext()
    try:
        while not stop.is_set() and not (orphaned and orphaned()):
            try:
                with guard:
                    outcome = run_next(db, store, settings, name)
            except Exception:  # the database may be briefly unavailable; keep the worker alive
                log.exception("worker %s: job loop error", name)
                outcome = Outcome.NOT_CLAIMED
            if outcome == Outcome.NOT_CLAIMED:
                wake.acquire(timeout=settings.poll_seconds)
    finally:
        db.dispose()


def _process_main(settings: Settings, index: int, stop: Any, wake: Any) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parent = mp.parent_process()

    def orphaned() -> bool:
        # Not a daemon (OCR starts its own processes), so it must notice when `serve` is gone.
        return parent is not None and not parent.is_alive()

    worker_loop(settings, worker_name("local", index), stop, wake, orphaned=orphaned)


class LocalPool:
    def __init__(self, settings: Settings) -> None:
        self.n = max(0, settings.workers)
        # N jobs at once, each OCR'ing with a pool of one process per core, would oversubscribe the
        # cores N times over: each job reads its pages with one process and one thread instead
        # (unless GONGKAI_OCR_WORKERS / GONGKAI_OCR_THREADS say otherwise).
        self.settings = settings.with_overrides(pipeline=settings.pipeline.sharing_cores(self.n))
        self._workers: list[Any] = []
        if settings.pool == "process":
            ctx = mp.get_context("spawn")  # no fork of a process that already runs threads
            self._stop: Any = ctx.Event()
            self._wake: Any = ctx.Semaphore(0)
            self._ctx: Any = ctx
        else:
            self._stop = threading.Event()
            self._wake = threading.Semaphore(0)
            self._ctx = None

    def start(self) -> None:
        for i in range(self.n):
            if self._ctx is not None:
                # daemon=False: daemonic processes may not start children, and OCR runs a process pool.
                w = self._ctx.Process(
                    target=_process_main, args=(self.settings, i, self._stop, self._wake), daemon=False
                )
            else:
                w = threading.Thread(
                    target=worker_loop,
                    args=(self.settings, worker_name("thread", i), self._stop, self._wake, PDFIUM_LOCK),
                    daemon=True,
                )
            w.start()
            self._workers.append(w)

    def notify(self, job_id: int) -> None:
        self._wake.release()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for _ in self._workers:
            self._wake.release()
        for w in self._workers:
            w.join(timeout)
            if self._ctx is not None and w.is_alive():
                # A job still running keeps its lease until it expires; then another worker re-runs it.
                w.terminate()
                w.join(5)
        self._workers.clear()

    def alive(self) -> int:
        return sum(1 for w in self._workers if w.is_alive())


class CeleryDispatcher:
    def __init__(self, settings: Settings, db: Database) -> None:
        from gongkai.server.jobs.celery_app import make_celery

        self.settings = settings
        self.db = db
        self.app = make_celery(settings)
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        self._sweeper = threading.Thread(target=self._sweep_loop, daemon=True, name="celery-sweeper")
        self._sweeper.start()

    def notify(self, job_id: int) -> None:
        try:
            self.app.send_task("gongkai.run_job", args=[job_id])
        except Exception:  # the row is durable: the sweeper sends it once the broker is back
            log.exception("could not send job %s to the broker", job_id)

    def sweep(self) -> int:
        with self.db.session() as s:
            ids = repo.claimable_job_ids(s, limit=100)
        for job_id in ids:
            self.notify(job_id)
        return len(ids)

    def _sweep_loop(self) -> None:
        interval = max(1.0, self.settings.lease_seconds / 2)
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:
                log.exception("celery sweeper failed")

    def stop(self) -> None:
        self._stop.set()


def make_dispatcher(settings: Settings, db: Database) -> Dispatcher:
    if settings.broker_url:
        return CeleryDispatcher(settings, db)
    if settings.workers <= 0:
        return NoWorkers()
    return LocalPool(settings)
