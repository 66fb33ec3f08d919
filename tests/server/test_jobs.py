"""Durable jobs: leases, a worker that dies mid-job, retries with reasons, the Celery path on Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from sqlalchemy import update

from gongkai.server.jobs.runner import Outcome, drain, process_job
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.server.storage.models import DocumentRow, JobRow, utcnow
from tests.server.api_support import Service, make_settings, redis_url, seed_keys, service, synthetic_pdf


@pytest.fixture
def api_only(tmp_path: Path) -> Iterator[Service]:
    """The API with no workers: jobs wait in the database, as after a crash."""
    yield from service(tmp_path, workers=0, lease_seconds=1, max_attempts=3)


def _job(db: Database, job_id: int) -> JobRow:
    with db.session() as s:
        job = s.get(JobRow, job_id)
        assert job is not None
        return job


def test_job_of_a_dead_worker_runs_again_after_its_lease(api_only: Service) -> None:
    st = api_only.settings
    body = api_only.upload(synthetic_pdf()).json()
    job_id = body["job"]["id"]
    db, store = Database(st.database_url), LocalFileStore(st.data_dir)
    # A worker claims the job and dies mid-job: the row says running, nobody renews the lease.
    with db.session() as s:
        assert repo.try_claim(s, job_id, "dead-worker", lease_seconds=1)
        assert not repo.try_claim(s, job_id, "other-worker", lease_seconds=1)  # the lease holds
    assert _job(db, job_id).status == "running"
    assert drain(db, store, st, "live-worker") == 0  # still leased
    time.sleep(1.2)  # let the dead worker's lease run out
    assert drain(db, store, st, "live-worker") == 1
    job = _job(db, job_id)
    assert job.status == "done" and job.attempts == 2 and job.lease_owner is None
    doc = api_only.client.get(f"/v1/documents/{body['id']}", headers=api_only.h("uploader")).json()
    assert doc["status"] == "done" and doc["job"]["attempts"] == 2
    # The dead worker wakes up late: its finish is refused, the stored result stays.
    from gongkai.server.jobs import runner

    assert runner._finish_success(db, job_id, "dead-worker", {"format": "legacy"}) == Outcome.LOST_LEASE
    assert (
        api_only.client.get(f"/v1/documents/{body['id']}/result", headers=api_only.h("uploader")).json()[
            "format"
        ]
        == "2021"
    )


def test_worker_lost_too_often_fails_with_reason(tmp_path: Path) -> None:
    for svc in service(tmp_path, workers=0, lease_seconds=1, max_attempts=1):
        st = svc.settings
        body = svc.upload(synthetic_pdf()).json()
        db, store = Database(st.database_url), LocalFileStore(st.data_dir)
        with db.session() as s:
            assert repo.try_claim(s, body["job"]["id"], "dead", lease_seconds=1)
            s.get(JobRow, body["job"]["id"]).lease_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
        assert process_job(db, store, st, body["job"]["id"], "w") == Outcome.FAILED
        doc = svc.client.get(f"/v1/documents/{body['id']}", headers=svc.h("uploader")).json()
        assert doc["status"] == "failed" and doc["error"]["code"] == "worker_lost"
        assert "lease expired" in doc["error"]["message"] and doc["error"]["retryable"]
        # Retry runs it again from scratch.
        assert (
            svc.client.post(f"/v1/documents/{body['id']}/retry", headers=svc.h("uploader")).status_code == 202
        )
        assert drain(db, store, st) == 1
        assert (
            svc.client.get(f"/v1/documents/{body['id']}", headers=svc.h("uploader")).json()["status"]
            == "done"
        )


def test_unexpected_error_is_retried_with_its_reason(
    api_only: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gongkai.pipeline.extract as pipeline

    st = api_only.settings
    calls = {"n": 0}
    real = pipeline.extract_bytes

    def flaky(data: bytes, filename: str, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk hiccup")
        return real(data, filename, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "extract_bytes", flaky)
    body = api_only.upload(synthetic_pdf()).json()
    db, store = Database(st.database_url), LocalFileStore(st.data_dir)
    assert process_job(db, store, st, body["job"]["id"], "w") == Outcome.REQUEUED
    job = _job(db, body["job"]["id"])
    assert job.status == "queued" and job.error_code == "internal_error"
    assert job.error_message == "RuntimeError: disk hiccup" and job.not_before > utcnow()
    doc = api_only.client.get(f"/v1/documents/{body['id']}", headers=api_only.h("uploader")).json()
    assert doc["job"]["error"]["message"] == "RuntimeError: disk hiccup" and doc["status"] == "queued"
    with db.session() as s:  # skip the backoff
        s.get(JobRow, job.id).not_before = utcnow()  # type: ignore[union-attr]
    assert drain(db, store, st) == 1
    job = _job(db, job.id)
    assert job.status == "done" and job.attempts == 2 and job.error_code is None


def test_gongkai_worker_once_runs_queued_jobs(
    api_only: Service, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gongkai.cli import main

    body = api_only.upload(synthetic_pdf()).json()
    for k, v in _env(api_only.settings).items():
        if k.startswith("GONGKAI_"):
            monkeypatch.setenv(k, v)
    assert main(["worker", "--once"]) == 0
    assert "ran 1 jobs" in capsys.readouterr().out
    assert (
        api_only.client.get(f"/v1/documents/{body['id']}", headers=api_only.h("uploader")).json()["status"]
        == "done"
    )


def _env(settings: object, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GONGKAI_DATABASE_URL=settings.database_url,  # type: ignore[attr-defined]
        GONGKAI_DATA_DIR=str(settings.data_dir),  # type: ignore[attr-defined]
        **extra,
    )
    return env


def _fake_dead_worker(db: Database, job_id: int) -> bool:
    """Make a job not yet taken look taken by a worker that died, its lease expired after its last send.

    One conditional UPDATE: a read-then-write here once overwrote the claim of the real worker, which
    had taken the job in between, and left its document `processing` for good."""
    now = utcnow()
    with db.session() as s:
        res = s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "queued")
            .values(
                status="running",
                lease_owner="dead",
                attempts=1,
                lease_expires_at=now - timedelta(seconds=1),
                dispatched_at=now - timedelta(seconds=2),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]


def test_celery_worker_on_redis_runs_the_same_task(tmp_path: Path) -> None:
    url = redis_url(11)
    if url is None:
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(url).flushdb()  # db 11 is this test's own
    # A lease long enough that a busy machine (a worker starved of CPU for a few seconds) does not
    # lose it mid-job and run the job again; the faked dead job below has its lease expired anyway.
    settings = make_settings(tmp_path, broker_url=url, lease_seconds=6)
    seed_keys(settings)
    worker = subprocess.Popen(
        [sys.executable, "-m", "gongkai.cli", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        env=_env(settings, GONGKAI_BROKER_URL=url, GONGKAI_LEASE_SECONDS="6"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for svc in service(tmp_path, broker_url=url, lease_seconds=6):
            assert type(svc.client.app.state.dispatcher).__name__ == "CeleryDispatcher"  # type: ignore[attr-defined]
            first = svc.upload(synthetic_pdf()).json()
            doc = svc.wait(first["id"], timeout=120)
            assert doc["status"] == "done", (doc, worker.poll())
            # A job whose worker died mid-job: the sweeper sends it again once the lease is gone.
            second = svc.upload(synthetic_pdf("丙县人民政府", 2022)).json()
            db = Database(svc.settings.database_url)
            faked = _fake_dead_worker(db, second["job"]["id"])
            sent = svc.client.app.state.dispatcher.sweep()  # type: ignore[attr-defined]
            if faked:  # the lease expired after the last send: the sweeper must send the job again
                assert sent >= 1
            doc = svc.wait(second["id"], timeout=120)
            assert doc["status"] == "done", (doc, faked, worker.poll())
            with db.session() as s:
                assert s.get(DocumentRow, second["id"]) is not None
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
