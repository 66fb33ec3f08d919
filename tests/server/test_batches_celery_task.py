"""The worker side of `gongkai batch --broker` (gongkai.server.jobs.batch_task), called directly on Redis.

A stale send is skipped without running the pipeline; a document stopped at Celery's soft time limit
reports `timeout`; a bug reports `internal_error`. Skipped without Redis on 127.0.0.1:6379 (db 14).
"""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery", reason="the service extra is not installed")

from celery.exceptions import SoftTimeLimitExceeded

from gongkai.batch.remote import current_key, decode_reply, replies_key, task_kwargs
from gongkai.batch.worker import WorkerConfig
from gongkai.server.jobs import batch_task
from gongkai.settings import PipelineOptions

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def r() -> Any:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url(URL)
    client.flushdb()
    return client


def _kwargs(token: str, data: bytes = b"<html>x</html>") -> dict[str, Any]:
    config = WorkerConfig(options=PipelineOptions(ocr=False), convert_timeout=5.0)
    return task_kwargs("b1", "ab" * 32, token, data, "x.html", config)


def test_a_send_that_is_no_longer_current_is_skipped_unrun(r: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(batch_task, "process_document", lambda *a: ran.append("ran"))
    assert batch_task.run_batch_document(URL, **_kwargs("t1")) == "stale"  # no token at all
    r.hset(current_key("b1"), "ab" * 32, "t2")
    assert batch_task.run_batch_document(URL, **_kwargs("t1")) == "stale"  # a newer send exists
    assert ran == [] and r.llen(replies_key("b1")) == 0


def test_soft_time_limit_and_bugs_become_outcomes(r: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r.hset(current_key("b1"), "ab" * 32, "t1")

    def hang(data: bytes, filename: str, config: WorkerConfig) -> Any:
        assert data == b"<html>x</html>" and config.options.ocr is False and config.memory_bytes is None
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(batch_task, "process_document", hang)
    assert batch_task.run_batch_document(URL, **_kwargs("t1")) == "failed"

    def bug(*_: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(batch_task, "process_document", bug)
    assert batch_task.run_batch_document(URL, **_kwargs("t1")) == "failed"
    replies = [decode_reply(raw) for raw in r.lrange(replies_key("b1"), 0, -1)]
    assert [(s, t, o.error_code) for s, t, o in filter(None, replies)] == [
        ("ab" * 32, "t1", "timeout"),
        ("ab" * 32, "t1", "internal_error"),
    ]


def test_the_real_function_reads_the_bytes_sent(r: Any, tmp_path: Path) -> None:
    from tests.batch.helpers import consistent_spec, html_bytes

    data = html_bytes(consistent_spec("某县人民政府", 2022))
    kw = _kwargs("t9", data)
    assert base64.b64decode(kw["data_b64"]) == data
    r.hset(current_key("b1"), "ab" * 32, "t9")
    assert batch_task.run_batch_document(URL, **kw) == "done"
    reply = decode_reply(r.lpop(replies_key("b1")))
    assert reply is not None and reply[2].ok and reply[2].kind == "html"
    assert '"year": 2022' in (reply[2].result_json or "")
