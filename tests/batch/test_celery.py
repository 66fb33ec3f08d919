"""`gongkai batch --broker`: documents read by real `gongkai worker` processes (Celery on loopback Redis).

Skipped when Redis on 127.0.0.1:6379 is not reachable. Redis db 14 is these tests' own (flushed).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery", reason="the service extra is not installed")

from gongkai.batch.manifest import MANIFEST_NAME
from tests.batch.helpers import consistent_spec, done_so_far, html_bytes, manifest_events, run

REPO = Path(__file__).resolve().parents[2]
REDIS_DB = 14


@pytest.fixture
def broker() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                pytest.skip("no Redis answering on 127.0.0.1:6379")
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 (the Celery batch tests need a real broker)")
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    return url


class Workers:
    """`gongkai worker` subprocesses on the broker, each in its own process group (kill -9 takes all)."""

    def __init__(self, url: str, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.env = dict(
            os.environ,
            GONGKAI_BROKER_URL=url,
            GONGKAI_DATABASE_URL=f"sqlite:///{root / 'worker.db'}",
            GONGKAI_DATA_DIR=str(root / "data"),
            PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        )
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gongkai.cli", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill9(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill9(proc)


@pytest.fixture
def workers(broker: str, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(broker, tmp_path / "worker")
    try:
        yield w
    finally:
        w.stop_all()


def _reports(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        spec = consistent_spec(f"第{i + 1}区人民政府", 2021 + i % 2, new=3 + i)
        (folder / f"r{i:02d}.html").write_bytes(html_bytes(spec))


def _documents(out: Path) -> dict[str, dict[str, Any]]:
    timing = {"seconds", "attempts"}  # how long and how often, not what was read
    with (out / "documents.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {
            r["file"].rsplit("/", 1)[-1]: {k: v for k, v in r.items() if k not in timing}
            for r in csv.DictReader(fh)
        }


def _results(out: Path) -> dict[str, Any]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (out / "results").glob("*.json")}


def test_a_batch_through_celery_workers_gives_the_local_outputs(
    tmp_path: Path, broker: str, workers: Workers
) -> None:
    src = tmp_path / "in"
    _reports(src, 3)
    (src / "copy-of-r00.html").write_bytes((src / "r00.html").read_bytes())
    (src / "notice.txt").write_bytes(
        "关于召开全区安全生产工作会议的通知\n定于下周一上午九时召开会议。\n".encode("gbk")
    )
    workers.start()
    remote = run([src], tmp_path / "celery", broker_url=broker, workers=2, timeout=120.0)
    local = run([src], tmp_path / "local", workers=1, timeout=120.0)
    assert remote == local == {"done": 3, "failed": 1, "duplicate": 1}
    assert _results(tmp_path / "celery") == _results(tmp_path / "local")
    assert _documents(tmp_path / "celery") == _documents(tmp_path / "local")
    assert _documents(tmp_path / "celery")["notice.txt"]["error_code"] == "not_a_report"
    # Each document was sent once and completed once; nothing is left on the broker for this batch.
    assert set(manifest_events(tmp_path / "celery", "start").values()) == {1}
    assert set(manifest_events(tmp_path / "celery", "done").values()) == {1}
    import redis

    assert [k for k in redis.Redis.from_url(broker).keys("gongkai:batch:*:current")] == []


def test_a_worker_killed_mid_batch_and_another_started_completes_every_document_once(
    tmp_path: Path, broker: str, workers: Workers
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    n = 8
    _reports(src, n)
    first = workers.start()
    box: dict[str, Any] = {}

    def batch() -> None:
        try:
            box["counts"] = run([src], out, broker_url=broker, workers=2, timeout=120.0, report_timeout=6.0)
        except BaseException as exc:  # surfaced by the assertion below
            box["error"] = exc

    thread = threading.Thread(target=batch)
    thread.start()
    end = time.monotonic() + 120
    while time.monotonic() < end and done_so_far(out) < 2:
        time.sleep(0.1)
    assert sum(manifest_events(out, "done").values()) >= 2, "the first worker did not get going"
    workers.kill9(first)  # parent and prefork child: the documents it held are never reported
    done_at_kill = sum(manifest_events(out, "done").values())
    assert done_at_kill < n, "the batch finished before the kill; the test proves nothing"
    workers.start()
    thread.join(240)
    assert not thread.is_alive() and "error" not in box, box
    assert box["counts"] == {"done": n}
    done, starts = manifest_events(out, "done"), manifest_events(out, "start")
    assert len(done) == n and set(done.values()) == {1}  # every document, each completed once
    # What the killed worker held came back either by a second send (a new token, after the report
    # timeout) or by the broker's redelivery of its unacknowledged messages (same token); which one
    # depends on where the kill lands, so only "nothing lost, nothing twice" is asserted.
    assert sum(starts.values()) >= n
    assert len(list((out / "results").glob("*.json"))) == n


def test_the_batch_process_killed_mid_run_resumes_from_the_broker_without_doing_anything_twice(
    tmp_path: Path, broker: str, workers: Workers
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    n = 6
    _reports(src, n)
    workers.start()
    cmd = [sys.executable, "-m", "gongkai.cli", "batch", str(src), "--out", str(out), "--broker", broker]
    cmd += ["--workers", "2", "--no-ocr", "--quiet", "--report-timeout", "60"]
    victim = subprocess.Popen(cmd, cwd=REPO, env=workers.env, start_new_session=True)
    end = time.monotonic() + 120
    while time.monotonic() < end and done_so_far(out) < 1:
        time.sleep(0.05)
    Workers.kill9(victim)
    done_before = sum(manifest_events(out, "done").values())
    assert 1 <= done_before < n, "the kill did not come mid-run"
    # A forged reply for a document still running, with a token that is not current, must be ignored.
    import redis

    r = redis.Redis.from_url(broker)
    with closing(sqlite3.connect(out / MANIFEST_NAME)) as db:
        batch_id = db.execute("SELECT value FROM meta WHERE key = 'batch_id'").fetchone()[0]
        running = [row[0] for row in db.execute("SELECT sha256 FROM documents WHERE status = 'running'")]
    assert running, "documents were in flight at the kill"
    from gongkai.batch.remote import encode_outcome, replies_key
    from gongkai.batch.worker import Outcome

    r.rpush(
        replies_key(batch_id), encode_outcome(running[0], "forged", Outcome(False, "pdf", error_code="x"))
    )
    rerun = subprocess.run(cmd, cwd=REPO, env=workers.env, timeout=180)
    assert rerun.returncode == 0
    done = manifest_events(out, "done")
    assert len(done) == n and set(done.values()) == {1}
    assert not manifest_events(out, "failed")


def test_with_no_worker_a_document_is_sent_again_and_then_failed_as_lost(tmp_path: Path, broker: str) -> None:
    src = tmp_path / "in"
    _reports(src, 1)
    out = tmp_path / "out"
    counts = run([src], out, broker_url=broker, workers=1, timeout=60.0, report_timeout=0.3)
    assert counts == {"failed": 1}
    assert set(manifest_events(out, "start").values()) == {3}  # the first send and two more
    row = _documents(out)["r00.html"]
    assert row["error_code"] == "lost" and "3 times" in row["error"]
    # Its tokens are gone, so the three messages still queued are no-ops for any worker that comes.
    import redis

    assert redis.Redis.from_url(broker).keys("gongkai:batch:*:current") == []


def test_an_unreachable_broker_and_a_test_processor_are_refused_with_the_reason(tmp_path: Path) -> None:
    from gongkai.errors import InputError
    from tests.batch.fake import PROCESSOR

    src = tmp_path / "in"
    _reports(src, 1)
    with pytest.raises(InputError, match="not reachable"):
        run([src], tmp_path / "a", broker_url="redis://127.0.0.1:9/0")
    with pytest.raises(InputError, match="--processor is for local workers"):
        run([src], tmp_path / "b", broker_url="redis://127.0.0.1:9/0", processor=PROCESSOR)
