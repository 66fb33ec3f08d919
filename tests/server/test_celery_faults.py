"""A real `gongkai worker` (Celery on Redis, loopback) killed with kill -9 mid-job: a new worker finishes
the job exactly once, and nothing is lost. Skipped when Redis on 127.0.0.1:6379 is not reachable."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("celery", reason="the service extra is not installed")

from sqlalchemy import func, select

from gongkai.server.storage.db import Database
from gongkai.server.storage.models import JobRow, ResultRow
from tests.server.api_support import redis_url, service, synthetic_pdf, until

REPO = Path(__file__).resolve().parents[2]
REDIS_DB = 12  # this test's own database number (the other Celery test uses 11)


def _start_worker(env: dict[str, str], marker: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.server.celery_stall_worker", str(marker)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill -9 takes the prefork children too
    )


def _kill9(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_celery_worker_killed_mid_job_is_recovered_exactly_once(tmp_path: Path) -> None:
    url = redis_url(REDIS_DB)
    if url is None:
        pytest.skip("no Redis on 127.0.0.1:6379 (the Celery fault test runs against a real broker)")
    import redis

    redis.Redis.from_url(url).flushdb()  # db 12 is this test's own: no message of an earlier run
    marker = tmp_path / "stalled-worker.pid"
    workers: list[subprocess.Popen[bytes]] = []
    # The API side: a CeleryDispatcher on the same broker, whose sweeper re-sends a job whose lease ran
    # out after it was sent (a 2 s lease, so the sweep comes within seconds of the kill).
    for svc in service(tmp_path, broker_url=url, lease_seconds=2):
        env = dict(
            os.environ,
            GONGKAI_DATABASE_URL=svc.settings.database_url,
            GONGKAI_DATA_DIR=str(svc.settings.data_dir),
            GONGKAI_BROKER_URL=url,
            GONGKAI_LEASE_SECONDS="2",
            PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        )
        try:
            workers.append(_start_worker(env, marker))
            body = svc.upload(synthetic_pdf()).json()
            doc_id, job_id = body["id"], body["job"]["id"]
            # Mid-job: the worker's child has claimed the job and is inside the extraction.
            pid = int(until(lambda: marker.exists() and marker.read_text(), 60, "the job to start"))
            db = Database(svc.settings.database_url)
            with db.session() as s:
                job = s.get(JobRow, job_id)
                assert job is not None and job.status == "running" and job.attempts == 1
                assert str(job.lease_owner).split(":")[2] == str(pid)
            _kill9(workers[-1])  # the whole worker, parent and child, as a lost machine
            t_kill = time.monotonic()
            # While no worker runs, another upload is accepted; it must not be lost either.
            queued = svc.upload(synthetic_pdf("丙县人民政府", 2022)).json()
            workers.append(_start_worker(env, marker))
            doc = svc.wait(doc_id, timeout=60)
            recovered = time.monotonic() - t_kill
            assert doc["status"] == "done", doc
            assert svc.wait(queued["id"], timeout=60)["status"] == "done"
            with db.session() as s:
                job = s.get(JobRow, job_id)
                assert job is not None and job.status == "done" and job.attempts == 2
                assert job.lease_owner is None and job.error_code is None
                # Exactly once: one job for the document, one stored result.
                assert s.scalar(select(func.count()).where(JobRow.document_id == doc_id)) == 1
                assert s.scalar(select(func.count()).where(ResultRow.document_id == doc_id)) == 1
            result = svc.client.get(f"/v1/documents/{doc_id}/result", headers=svc.h("uploader"))
            assert result.status_code == 200 and result.json()["metadata"]["year"] == 2023
            db.dispose()
            assert recovered < 60
        finally:
            for w in workers:
                _kill9(w)
