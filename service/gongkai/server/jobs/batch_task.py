"""The Celery task of ``gongkai batch --broker``: one document, on the workers of ``gongkai worker``.

It lives in the server (which owns the Celery app) and calls the batch's per-document function,
``gongkai.batch.worker.process_document``, so a document is read exactly as a local batch worker reads
it. The worker writes nothing but its reply: the batch process is the only writer of its results and
manifest (the exactly-once rule is in ``gongkai.batch.remote``).
"""

from __future__ import annotations

import base64
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

from gongkai.batch.remote import TASK_NAME, current_key, encode_outcome, replies_key
from gongkai.batch.worker import Outcome, WorkerConfig, process_document
from gongkai.settings import PipelineOptions

log = logging.getLogger("gongkai.jobs")
_redis_clients: dict[tuple[int, str], Any] = {}


def _redis(url: str) -> Any:
    # One client per prefork child (a connection must not cross a fork).
    import redis

    key = (os.getpid(), url)
    if key not in _redis_clients:
        _redis_clients[key] = redis.Redis.from_url(url)
    return _redis_clients[key]


def _scratch() -> Path:
    # LibreOffice's profile, one per child as in a local batch worker.
    path = Path(tempfile.gettempdir()) / f"gongkai-batch-{os.getuid()}"
    path.mkdir(exist_ok=True)
    return path


def run_batch_document(
    broker_url: str,
    *,
    batch_id: str,
    sha256: str,
    token: str,
    data_b64: str,
    filename: str,
    options: dict[str, Any],
    convert_timeout: float,
) -> str:
    """Run one document if its send is still the current one; push the outcome. Returns what happened."""
    r = _redis(broker_url)
    current = r.hget(current_key(batch_id), sha256)
    if current is None or current.decode() != token:
        return "stale"  # sent again since, or already done: another send completes it
    config = WorkerConfig(
        options=PipelineOptions.model_validate(options),
        memory_bytes=None,  # a Celery child is shared with the service's jobs: no per-document cap
        convert_timeout=convert_timeout,
        scratch_dir=_scratch(),
    )
    start = time.monotonic()
    try:
        outcome = process_document(base64.b64decode(data_b64), filename, config)
    except SoftTimeLimitExceeded:
        outcome = Outcome(
            False,
            "unknown",
            error_code="timeout",
            error="still running at the batch's timeout; the worker stopped it",
            seconds=round(time.monotonic() - start, 3),
        )
    except Exception as exc:  # as the local worker: a bug on one document is that document's outcome
        log.exception("batch document %s failed", sha256[:12])
        outcome = Outcome(
            False,
            "unknown",
            error_code="internal_error",
            error=f"{type(exc).__name__}: {exc}"[:500],
            seconds=round(time.monotonic() - start, 3),
        )
    r.rpush(replies_key(batch_id), encode_outcome(sha256, token, outcome))
    return "done" if outcome.ok else "failed"


def register_batch_task(app: Celery) -> None:
    """Add ``gongkai.batch_document`` to the service's Celery app (``gongkai worker`` runs it)."""
    broker_url = str(app.conf.broker_url)

    # Not re-queued when its child dies: a document that crashes its worker would crash the next
    # one too. The batch process is the source of truth and sends a document again after its report
    # timeout (at most a few times); the token makes any older copy of the task a no-op.
    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=False, ignore_result=True)
    def batch_document(**kwargs: Any) -> str:
        return run_batch_document(broker_url, **kwargs)
