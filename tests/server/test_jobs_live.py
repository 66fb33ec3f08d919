"""`gongkai serve` under a live uvicorn on 127.0.0.1: upload, a crash mid-job, a restart that finishes it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import real_document
from tests.server.api_support import make_settings, seed_keys

httpx = pytest.importorskip("httpx")

from gongkai.server.storage import repository as repo  # noqa: E402
from gongkai.server.storage.db import Database  # noqa: E402
from gongkai.server.storage.models import JobRow  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "gongkai.cli", "serve", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", str(workers), "--log-level", "warning"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill below takes its workers too
    )


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_live_server_survives_a_crash_mid_job(tmp_path: Path) -> None:
    pdf = real_document("huaian-hongze-2023.pdf").read_bytes()
    settings = make_settings(tmp_path, lease_seconds=2)
    keys = seed_keys(settings)
    env = dict(os.environ)
    env.update(
        GONGKAI_DATABASE_URL=settings.database_url,
        GONGKAI_DATA_DIR=str(settings.data_dir),
        GONGKAI_LEASE_SECONDS="2",
        GONGKAI_POOL="process",
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {keys['uploader']}"}

    # 1. An API without workers takes the upload: stored and committed before the 202.
    first = _serve(env, port, workers=0)
    try:
        _wait_healthy(base, first)
        r = httpx.post(
            f"{base}/v1/documents", files={"file": ("hongze.pdf", pdf)}, headers=headers, timeout=30
        )
        assert r.status_code == 202, r.text
        doc_id, job_id = r.json()["id"], r.json()["job"]["id"]
        # 2. A worker claims the job and dies mid-job (its lease is never renewed) ...
        db = Database(settings.database_url)
        with db.session() as s:
            assert repo.try_claim(s, job_id, "crashed-worker", lease_seconds=2)
    finally:
        # ... and the whole service is killed hard.
        _stop(first, signal.SIGKILL)
    with db.session() as s:
        job = s.get(JobRow, job_id)
        assert job is not None and job.status == "running" and job.attempts == 1

    # 3. Restart with a local pool: the expired job is picked up again and finishes.
    second = _serve(env, port, workers=1)
    try:
        _wait_healthy(base, second)
        end = time.monotonic() + 180
        doc = {}
        while time.monotonic() < end:
            doc = httpx.get(f"{base}/v1/documents/{doc_id}", headers=headers, timeout=10).json()
            if doc["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert doc["status"] == "done", doc
        assert doc["job"]["attempts"] == 2
        result = httpx.get(f"{base}/v1/documents/{doc_id}/result", headers=headers, timeout=10).json()
        assert result["metadata"]["year"] == 2023
        assert {c["id"] for c in result["checks"] if c["status"] == "fail"} >= {"appeals_total:review"}
        # A reviewer fixes the misprinted total over the wire.
        fix = httpx.patch(
            f"{base}/v1/documents/{doc_id}/cells/appeals.review.total",
            json={"value": 11, "reason": "rows sum to 11"},
            headers={"X-API-Key": keys["reviewer"]},
            timeout=10,
        )
        assert fix.status_code == 200 and fix.json()["failing_checks"] == doc["failing_checks"] - 1
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'gongkai_jobs{status="done"} 1.0' in metrics
    finally:
        _stop(second, signal.SIGTERM)
    assert second.returncode is not None
