"""The local process pool heals itself: killed workers come back, /healthz says "degraded" while they
are down, and the job a killed worker was running is handed on at once, not after its lease."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from fastapi.testclient import TestClient

from gongkai.server.api.app import create_app
from gongkai.server.jobs import pool as poollib
from gongkai.server.jobs.pool import LocalPool
from gongkai.server.storage.db import Database
from gongkai.server.storage.models import JobRow
from gongkai.settings import Settings
from tests.server.api_support import Service, make_settings, seed_keys, service, synthetic_pdf, until
from tests.server.postgres import fresh_database_url

STALL_MARKER = "stalled-worker.pid"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gongkai.db'}"
        return
    with fresh_database_url() as url:
        yield url


def _stall_first_job_main(settings: Settings, index: int, stop: Any, wake: Any) -> None:
    """A worker process whose first extraction (across the pool) stalls until it is killed.

    The first worker to get there writes its pid to a marker file and sleeps; every later extraction,
    in a restarted or another worker, runs normally. Module level, as spawn pickles it by name."""
    from tests.server.celery_stall_worker import stall_first_extraction

    stall_first_extraction(Path(settings.data_dir) / STALL_MARKER)
    poollib._process_main(settings, index, stop, wake)


def _service(settings: Settings, pool: LocalPool) -> Iterator[Service]:
    keys = seed_keys(settings)
    with TestClient(create_app(settings, dispatcher=pool)) as client:
        yield Service(client, settings, keys)


def _settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    return make_settings(tmp_path, database_url=database_url, pool="process", workers=2, **overrides)


def _kill_all(pool: LocalPool) -> list[int]:
    pids = [p for p in pool.pids() if p is not None]
    assert len(pids) == pool.n
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def test_killed_workers_are_restarted(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url)
    pool = LocalPool(settings, first_delay=0.2, max_delay=1.0)
    for svc in _service(settings, pool):
        until(lambda: pool.alive() == 2, 30, "both workers to start")
        for round_ in range(2):  # twice: the back-off grows but stays bounded
            old = _kill_all(pool)
            until(
                lambda old=old: pool.alive() == 2 and not set(pool.pids()) & set(old),
                30,
                "workers to come back",
            )
            assert pool.restarts == 2 * (round_ + 1)
        health = svc.client.get("/healthz")
        assert health.status_code == 200, health.json()
        assert health.json()["workers_alive"] == 2 and health.json()["workers_configured"] == 2
        # The restarted workers still run jobs.
        doc = svc.upload(synthetic_pdf()).json()
        assert svc.wait(doc["id"])["status"] == "done"


def test_healthz_is_degraded_while_workers_are_down(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url)
    pool = LocalPool(settings, first_delay=3600)  # restarts held off: the dead stay dead
    for svc in _service(settings, pool):
        ok = svc.client.get("/healthz")
        assert ok.status_code == 200 and ok.json()["status"] == "ok", ok.json()
        _kill_all(pool)
        down = until(
            # 503 from the first death on; wait until both deaths are seen.
            lambda svc=svc: (r := svc.client.get("/healthz")).json()["workers_alive"] == 0 and r,
            30,
            "healthz to see both workers dead",
        )
        body = down.json()
        assert down.status_code == 503 and body["status"] == "degraded" and body["database"].startswith("ok")
        assert body["workers_alive"] == 0 and body["workers_configured"] == 2
        assert body["jobs"] == "LocalPool (0 of 2 workers alive)"
        # The supervisor has noticed both deaths and scheduled (not yet run) their restarts.
        until(lambda: pool.pids() == [None, None], 10, "the supervisor to notice")
        assert pool.restarts == 0


def _job(settings: Settings, job_id: int) -> JobRow:
    db = Database(settings.database_url)
    try:
        with db.session() as s:
            job = s.get(JobRow, job_id)
            assert job is not None
            return job
    finally:
        db.dispose()


def _kill_stalled_worker(svc: Service, job_id: int) -> str:
    """Wait for the stalled worker to hold the job, kill it, and return the dead worker's lease name."""
    marker = Path(svc.settings.data_dir) / STALL_MARKER
    until(lambda: marker.exists() and marker.read_text(), 60, "a worker to stall in the job")
    pid = int(marker.read_text())
    owner = until(lambda: _job(svc.settings, job_id).lease_owner, 10, "the job's lease")
    assert owner.split(":")[2] == str(pid)
    os.kill(pid, signal.SIGKILL)
    return str(owner)


def test_job_of_a_killed_worker_runs_again_at_once(tmp_path: Path, database_url: str) -> None:
    # A lease far longer than the wait below: the job can only finish in time if it is handed on.
    settings = _settings(tmp_path, database_url, lease_seconds=600, max_attempts=3)
    pool = LocalPool(settings, target=_stall_first_job_main)
    for svc in _service(settings, pool):
        body = svc.upload(synthetic_pdf()).json()
        _kill_stalled_worker(svc, body["job"]["id"])
        doc = svc.wait(body["id"], timeout=90)
        assert doc["status"] == "done", doc
        job = _job(settings, body["job"]["id"])
        assert job.status == "done" and job.attempts == 2 and job.error_code is None
        assert job.lease_owner is None
        until(lambda: pool.alive() == 2, 30, "the killed worker to be restarted")


def test_job_that_kills_its_worker_every_time_fails_with_reason(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url, lease_seconds=600, max_attempts=1)
    pool = LocalPool(settings, target=_stall_first_job_main)
    for svc in _service(settings, pool):
        body = svc.upload(synthetic_pdf()).json()
        _kill_stalled_worker(svc, body["job"]["id"])
        doc = svc.wait(body["id"], timeout=30)
        assert doc["status"] == "failed" and doc["error"]["code"] == "worker_died", doc
        assert "died" in doc["error"]["message"] and doc["error"]["retryable"]
        job = _job(settings, body["job"]["id"])
        assert job.status == "failed" and job.attempts == 1 and job.error_code == "worker_died"


def test_idle_worker_that_grew_is_replaced_by_a_fresh_one(tmp_path: Path, database_url: str) -> None:
    # Any size counts as grown here (recycle_rss_mb=0); in use it is the models' ~300 MB.
    settings = make_settings(
        tmp_path, database_url=database_url, pool="process", workers=1, recycle_idle_seconds=1.0
    ).with_overrides(recycle_rss_mb=0)
    pool = LocalPool(settings)
    for svc in _service(settings, pool):
        until(lambda: pool.alive() == 1, 30, "the worker to start")
        first_pid = pool.pids()[0]
        time.sleep(2.5)  # idle, but it has run nothing: a fresh worker is never recycled
        assert pool.pids() == [first_pid] and pool.restarts == 0
        doc = svc.upload(synthetic_pdf()).json()
        assert svc.wait(doc["id"])["status"] == "done"
        health: list[int] = []

        def replaced(svc: Service = svc, first: int | None = first_pid, health: list[int] = health) -> bool:
            health.append(svc.client.get("/healthz").status_code)
            return pool.pids()[0] not in (None, first)

        until(replaced, 30, "the idle worker to hand its slot to a fresh process")
        # A deliberate restart is not a death: no back-off, and /healthz never said degraded.
        assert pool.restarts == 1 and set(health) == {200}, health
        second = svc.upload(synthetic_pdf("乙县人民政府", 2022)).json()
        assert svc.wait(second["id"])["status"] == "done"


def test_worker_loop_recycles_only_after_work_idle_and_growth(tmp_path: Path) -> None:
    for svc in service(tmp_path, workers=0, recycle_idle_seconds=0.3, recycle_rss_mb=0):
        settings = svc.settings
        stop, wake = threading.Event(), threading.Semaphore(0)
        # Nothing run yet: the loop keeps polling until stopped, and says it was not recycled.
        threading.Timer(1.0, stop.set).start()
        assert poollib.worker_loop(settings, "thread:test:1:0", stop, wake, recycle=True) is False
        doc = svc.upload(synthetic_pdf()).json()
        # After a job, grown past the limit (0 MB here) and idle: recycled, the job done first.
        stop = threading.Event()
        assert poollib.worker_loop(settings, "thread:test:1:0", stop, wake, recycle=True) is True
        assert svc.wait(doc["id"], timeout=5)["status"] == "done"
        # A worker that stays small is not worth a new process: never recycled.
        small = settings.with_overrides(recycle_rss_mb=1_000_000)
        second = svc.upload(synthetic_pdf("乙县人民政府", 2022)).json()
        threading.Timer(3.0, stop.set).start()
        assert poollib.worker_loop(small, "thread:test:1:0", stop, wake, recycle=True) is False
        assert svc.wait(second["id"], timeout=5)["status"] == "done"
        # Switched off (0 s): never recycled either.
        off = settings.with_overrides(recycle_idle_seconds=0)
        third = svc.upload(synthetic_pdf("丙县人民政府", 2021)).json()
        stop = threading.Event()
        threading.Timer(3.0, stop.set).start()
        assert poollib.worker_loop(off, "thread:test:1:0", stop, wake, recycle=True) is False
        assert svc.wait(third["id"], timeout=5)["status"] == "done"


def _pool_whose_worker_recycled(tmp_path: Path) -> LocalPool:
    """A one-worker process pool whose worker has just exited to be recycled, not yet handled."""
    pool = LocalPool(make_settings(tmp_path, pool="process", workers=1))

    class Recycled:
        exitcode = poollib.RECYCLE_EXIT_CODE

        def is_alive(self) -> bool:
            return False

    pool._workers, pool._names = [Recycled()], ["local:test:1:0"]
    pool._started, pool._delay, pool._restart_at = [0.0], [0.5], [0.0]
    return pool


def test_a_recycled_slot_that_cannot_restart_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker that recycled itself counts as alive only until the supervisor handles it: if the new
    # process cannot be started, /healthz must not go on counting the old one.
    pool = _pool_whose_worker_recycled(tmp_path)
    assert pool.alive() == 1  # deliberate, and not yet handled
    monkeypatch.setattr(pool, "_spawn", lambda i: (_ for _ in ()).throw(OSError("no processes left")))
    with pytest.raises(OSError):
        pool.check()
    assert pool.alive() == 0 and pool.pids() == [None]


def test_a_recycled_slot_counts_as_alive_while_its_successor_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /healthz read 503 now and then during a recycle: the slot was emptied before the new process
    # was started. It must count as alive until the fresh process takes it.
    pool = _pool_whose_worker_recycled(tmp_path)

    class Fresh:
        exitcode = None
        pid = 4242

        def is_alive(self) -> bool:
            return True

    alive_while_starting: list[int] = []

    def spawn(i: int) -> tuple[Fresh, str]:
        alive_while_starting.append(pool.alive())
        return Fresh(), "local:test:1:1"

    monkeypatch.setattr(pool, "_spawn", spawn)
    pool.check()
    assert alive_while_starting == [1]
    assert pool.alive() == 1 and pool.pids() == [4242] and pool.restarts == 1
