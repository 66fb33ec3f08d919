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
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from gongkai.pipeline.ocr.memory import release_memory, status_mb
from gongkai.server.jobs.locks import PDFIUM_LOCK
from gongkai.server.jobs.runner import Outcome, recover_dead_worker, run_next, worker_name
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


# A worker process exits with this code when it recycles itself (idle and grown large): the pool
# restarts the slot at once, without back-off, and does not count it as a death.
RECYCLE_EXIT_CODE = 75


def worker_loop(
    settings: Settings,
    name: str,
    stop: Any,
    wake: Any,
    guard: Any = None,
    orphaned: Any = None,
    recycle: bool = False,
) -> bool:
    """Run jobs until stopped. With ``recycle`` (worker processes), return True once the process
    has run jobs, grown past ``settings.recycle_rss_mb`` and then found no job for
    ``recycle_idle_seconds``: its caller exits, and a fresh process without the models takes its
    place (a fresh process has run nothing, so it never recycles before its first job)."""
    db = Database(settings.database_url)
    store = LocalFileStore(settings.data_dir)
    # Threads share PDFium with the API's page renderer, and PDFium is not thread-safe.
    guard = guard or contextlib.nullcontext()
    idle_since, worked, trimmed = time.monotonic(), False, False
    try:
        while not stop.is_set() and not (orphaned and orphaned()):
            try:
                with guard:
                    outcome = run_next(db, store, settings, name)
            except Exception:  # the database may be briefly unavailable; keep the worker alive
                log.exception("worker %s: job loop error", name)
                outcome = Outcome.NOT_CLAIMED
            if outcome != Outcome.NOT_CLAIMED:
                idle_since, worked, trimmed = time.monotonic(), True, False
                continue
            if worked and not trimmed:
                # Going idle: hand the last jobs' freed memory back to the system. Not between jobs:
                # the next document would only fault the same pages in again (~10 % of a scan's time).
                release_memory()
                trimmed = True
            if recycle and worked and _recycle_due(settings, time.monotonic() - idle_since):
                rss = status_mb("VmRSS")
                log.info("worker %s: idle at %.0f MB, handing its slot to a fresh process", name, rss)
                return True
            wake.acquire(timeout=settings.poll_seconds)
    finally:
        db.dispose()
    return False


def _recycle_due(settings: Settings, idle_seconds: float) -> bool:
    if settings.recycle_idle_seconds <= 0 or idle_seconds < settings.recycle_idle_seconds:
        return False
    rss = status_mb("VmRSS")
    return rss is not None and rss > settings.recycle_rss_mb


def _process_main(settings: Settings, index: int, stop: Any, wake: Any) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parent = mp.parent_process()

    def orphaned() -> bool:
        # Not a daemon (OCR starts its own processes), so it must notice when `serve` is gone.
        return parent is not None and not parent.is_alive()

    if worker_loop(settings, worker_name("local", index), stop, wake, orphaned=orphaned, recycle=True):
        sys.exit(RECYCLE_EXIT_CODE)


class LocalPool:
    """N workers and a supervisor thread that restarts any that die (kill -9, the OOM killer).

    A dead worker's slot is restarted after a back-off that doubles per slot (first_delay up to
    max_delay) and resets once a worker has stayed up for stable_seconds, so a worker that dies at
    once on every start cannot make the supervisor spin. The job a dead worker held is handed on at
    once (``recover_dead_worker``) instead of waiting for its lease to run out.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        *,
        target: Callable[..., None] | None = None,
        check_seconds: float = 0.5,
        first_delay: float = 0.5,
        max_delay: float = 5.0,
        stable_seconds: float = 10.0,
    ) -> None:
        self.n = max(0, settings.workers)
        # N jobs at once, each OCR'ing with a pool of one process per core, would oversubscribe the
        # cores N times over: each job reads its pages with one process and one thread instead
        # (unless GONGKAI_OCR_WORKERS / GONGKAI_OCR_THREADS say otherwise).
        self.settings = settings.with_overrides(pipeline=settings.pipeline.sharing_cores(self.n))
        self._db, self._own_db = db, db is None
        # target: what a worker process runs (a module-level function, as spawn pickles it by name).
        self._target = target or _process_main
        self.check_seconds, self.first_delay, self.max_delay = check_seconds, first_delay, max_delay
        self.stable_seconds = stable_seconds
        self._workers: list[Any] = []  # one per slot; None while a dead worker's slot waits to restart
        self._names: list[str] = []  # the lease owner name of each slot's current worker
        self._started: list[float] = []
        self._delay: list[float] = []
        self._restart_at: list[float] = []
        self.restarts = 0
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._supervisor: threading.Thread | None = None
        if settings.pool == "process":
            ctx = mp.get_context("spawn")  # no fork of a process that already runs threads
            self._stop: Any = ctx.Event()
            self._wake: Any = ctx.Semaphore(0)
            self._ctx: Any = ctx
        else:
            self._stop = threading.Event()
            self._wake = threading.Semaphore(0)
            self._ctx = None

    def _spawn(self, i: int) -> tuple[Any, str]:
        if self._ctx is not None:
            # daemon=False: daemonic processes may not start children, and OCR runs a process pool.
            w = self._ctx.Process(
                target=self._target, args=(self.settings, i, self._stop, self._wake), daemon=False
            )
            w.start()
            return w, worker_name("local", i, pid=w.pid)
        name = worker_name("thread", i)
        w = threading.Thread(
            target=worker_loop, args=(self.settings, name, self._stop, self._wake, PDFIUM_LOCK), daemon=True
        )
        w.start()
        return w, name

    def start(self) -> None:
        now = time.monotonic()
        with self._lock:
            for i in range(self.n):
                w, name = self._spawn(i)
                self._workers.append(w)
                self._names.append(name)
                self._started.append(now)
                self._delay.append(self.first_delay)
                self._restart_at.append(0.0)
        self._halt.clear()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="pool-supervisor")
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._halt.wait(self.check_seconds):
            try:
                self.check()
            except Exception:  # e.g. the database is down while handing on a job; try again next tick
                log.exception("pool supervisor check failed")

    def check(self) -> None:
        """One supervisor pass: note dead workers, hand on their jobs, restart slots after their back-off."""
        now = time.monotonic()
        for i in range(len(self._workers)):
            w = self._workers[i]
            if w is not None and w.is_alive():
                if now - self._started[i] >= self.stable_seconds:
                    self._delay[i] = self.first_delay
                continue
            if w is not None and getattr(w, "exitcode", None) == RECYCLE_EXIT_CODE:
                log.info("worker %s recycled itself while idle; starting a fresh one", self._names[i])
                # Not a death: no back-off, and it held no job. The slot counts as alive until the
                # fresh process takes it below, so /healthz never sees it empty in between.
                self._restart_at[i] = now
            elif w is not None:
                name = self._names[i]
                log.warning(
                    "worker %s died (exit code %s); restarting in %.1f s",
                    name,
                    getattr(w, "exitcode", None),
                    self._delay[i],
                )
                with self._lock:
                    self._workers[i] = None
                self._restart_at[i] = now + self._delay[i]
                self._delay[i] = min(self.max_delay, self._delay[i] * 2)
                try:
                    handed_on = recover_dead_worker(self._database(), name)
                except Exception:  # the database may be down: the lease then expires as before
                    log.exception("could not hand on the jobs of dead worker %s", name)
                    handed_on = []
                if handed_on:
                    log.warning("jobs %s of dead worker %s handed on", handed_on, name)
                for _ in handed_on:
                    self._wake.release()  # an idle worker takes it now, not at its next poll
            if now >= self._restart_at[i] and not self._halt.is_set():
                try:
                    nw, name = self._spawn(i)
                except BaseException:
                    with self._lock:  # a recycled worker no longer counts: /healthz says degraded
                        self._workers[i] = None
                    raise
                with self._lock:
                    self._workers[i], self._names[i], self._started[i] = nw, name, time.monotonic()
                    self.restarts += 1

    def _database(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    def notify(self, job_id: int) -> None:
        self._wake.release()

    def stop(self, timeout: float = 30.0) -> None:
        # The supervisor first, so that it does not restart the workers being stopped.
        self._halt.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
            self._supervisor = None
        self._stop.set()
        with self._lock:
            workers = [w for w in self._workers if w is not None]
            for slots in (self._workers, self._names, self._started, self._delay, self._restart_at):
                slots.clear()
        for _ in workers:
            self._wake.release()
        for w in workers:
            w.join(timeout)
            if self._ctx is not None and w.is_alive():
                # A job still running keeps its lease until it expires; then another worker re-runs it.
                w.terminate()
                w.join(5)
        if self._own_db and self._db is not None:
            self._db.dispose()
            self._db = None

    def alive(self) -> int:
        """Workers alive; a worker that has just recycled itself counts until the supervisor's next
        check restarts its slot (at most ``check_seconds``), so /healthz does not report a deliberate
        restart as degraded."""
        with self._lock:
            return sum(
                1
                for w in self._workers
                if w is not None and (w.is_alive() or getattr(w, "exitcode", None) == RECYCLE_EXIT_CODE)
            )

    def configured(self) -> int:
        """The workers this pool runs: N once started, 0 before start and after stop."""
        with self._lock:
            return len(self._names)

    def pids(self) -> list[int | None]:
        """Each slot's worker process id (None for threads and for a slot waiting to restart)."""
        with self._lock:
            return [getattr(w, "pid", None) if w is not None else None for w in self._workers]


# How long a job sent to the broker is left alone before the sweeper sends it again (a lost message).
# Redelivery of a message a worker took and lost is Celery's (acks late); this is only the backstop.
DISPATCH_TIMEOUT_SECONDS = 600.0


class CeleryDispatcher:
    def __init__(self, settings: Settings, db: Database, dispatch_timeout: float | None = None) -> None:
        from gongkai.server.jobs.celery_app import make_celery

        self.settings = settings
        self.db = db
        self.app = make_celery(settings)
        self.dispatch_timeout = DISPATCH_TIMEOUT_SECONDS if dispatch_timeout is None else dispatch_timeout
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        self._sweeper = threading.Thread(target=self._sweep_loop, daemon=True, name="celery-sweeper")
        self._sweeper.start()

    def _send(self, job_id: int) -> bool:
        try:
            self.app.send_task("gongkai.run_job", args=[job_id])
        except Exception:  # the row is durable: the sweeper sends it once the broker is back
            log.exception("could not send job %s to the broker", job_id)
            return False
        return True

    def _mark(self, job_ids: list[int]) -> None:
        if not job_ids:
            return
        try:
            with self.db.session() as s:
                repo.mark_dispatched(s, job_ids)
        except Exception:  # at worst the sweeper sends these again
            log.exception("could not record the dispatch of jobs %s", job_ids)

    def notify(self, job_id: int) -> None:
        if self._send(job_id):
            self._mark([job_id])

    def sweep(self) -> int:
        """Send the claimable jobs not sent within the dispatch timeout; returns how many were sent."""
        with self.db.session() as s:
            ids = repo.dispatchable_job_ids(s, self.dispatch_timeout, limit=100)
        sent = [job_id for job_id in ids if self._send(job_id)]
        self._mark(sent)
        return len(sent)

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
    return LocalPool(settings, db)
