"""The one task function both the local pool and Celery run: claim a job, extract, store, finish.

A job is claimed with a lease; a heartbeat renews it while the pipeline runs. A worker that dies
stops renewing, the lease expires and another worker claims the job again. Every finish checks
that this worker still holds the lease, so a slow worker that lost its job cannot overwrite it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from gongkai.errors import InputError
from gongkai.server.review import failing_count, require_served_result
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.server.storage.models import DocumentRow, JobRow, ResultRow, utcnow
from gongkai.settings import Settings

log = logging.getLogger("gongkai.jobs")


class Outcome(StrEnum):
    NOT_CLAIMED = "not_claimed"
    DONE = "done"
    FAILED = "failed"
    REQUEUED = "requeued"
    LOST_LEASE = "lost_lease"


def worker_name(kind: str, index: int | str = 0, pid: int | None = None) -> str:
    # pid: the pool names a child process from outside, to find the leases it held when it died.
    return f"{kind}:{socket.gethostname()}:{pid or os.getpid()}:{index}"


class _Heartbeat(threading.Thread):
    def __init__(self, db: Database, job_id: int, owner: str, lease_seconds: int) -> None:
        super().__init__(daemon=True, name=f"lease-{job_id}")
        self.db, self.job_id, self.owner, self.lease = db, job_id, owner, lease_seconds
        self.stop = threading.Event()
        self.stage: str | None = None

    def run(self) -> None:
        interval = max(0.2, self.lease / 3)
        while not self.stop.wait(interval):
            try:
                with self.db.session() as s:
                    if not repo.renew_lease(s, self.job_id, self.owner, self.lease, self.stage):
                        return
            except Exception:  # a missed heartbeat is not fatal; the next one may succeed
                log.exception("lease renewal for job %s failed", self.job_id)

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        with self.db.session() as s:
            repo.renew_lease(s, self.job_id, self.owner, self.lease, stage)


def process_job(db: Database, store: LocalFileStore, settings: Settings, job_id: int, owner: str) -> Outcome:
    with db.session() as s:
        if not repo.try_claim(s, job_id, owner, settings.lease_seconds):
            return Outcome.NOT_CLAIMED
        job = s.get(JobRow, job_id)
        if job is None:  # claimed a moment ago: only a row removed by hand gets here
            return Outcome.NOT_CLAIMED
        doc = _document_or_fail(s, job)
        if doc is None:
            return Outcome.FAILED
        if job.attempts > job.max_attempts:
            # The previous attempts claimed the job and never finished: their worker died.
            _fail_locked(
                job,
                doc,
                "worker_lost",
                f"gave up after {job.max_attempts} attempts: each worker stopped before finishing "
                "(its lease expired)",
            )
            return Outcome.FAILED
        doc.status = "processing"
        doc.updated_at = utcnow()
        sha, filename = doc.sha256, doc.filename
    beat = _Heartbeat(db, job_id, owner, settings.lease_seconds)
    beat.start()
    try:
        beat.set_stage("reading")
        data = store.get(sha)
        beat.set_stage("extracting")
        from gongkai.pipeline.extract import extract_bytes

        options = settings.pipeline.model_copy(update={"max_bytes": settings.max_upload_bytes})
        result = extract_bytes(data, filename, options=options)
        payload = json.loads(result.to_json(indent=None))
        beat.set_stage("storing")
    except InputError as exc:
        # The document's own problem: deterministic, so no automatic retry; a person can retry later
        # (e.g. once OCR is installed for a scan).
        return _finish_failure(db, job_id, owner, exc.code, str(exc), final=True)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        return _finish_failure(db, job_id, owner, "internal_error", _one_line(exc), final=False)
    finally:
        beat.stop.set()
    return _finish_success(db, job_id, owner, payload)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]


def _finish_success(db: Database, job_id: int, owner: str, payload: dict[str, object]) -> Outcome:
    with db.session() as s:
        job = repo.owns(s, job_id, owner)
        if job is None:
            return Outcome.LOST_LEASE
        doc = _document_or_fail(s, job)
        if doc is None:
            return Outcome.FAILED
        existing = s.get(ResultRow, doc.id)
        text = json.dumps(payload, ensure_ascii=False)
        if existing is None:
            s.add(ResultRow(document_id=doc.id, result_json=text, created_at=utcnow()))
        else:
            existing.result_json, existing.created_at = text, utcnow()
        s.flush()
        served = require_served_result(s, doc.id)
        meta, source = _mapping(payload.get("metadata")), _mapping(payload.get("source"))
        doc.status = "done"
        doc.format = str(payload.get("format")) if payload.get("format") else None
        doc.year = meta.get("year")
        doc.agency = (meta.get("agency") or None) and str(meta.get("agency"))[:200]
        doc.title = meta.get("title")
        doc.pages = source.get("pages") if isinstance(source.get("pages"), int) else doc.pages
        doc.failing_checks = failing_count(served)
        doc.cells_to_review = served.review_count()
        doc.error_code = doc.error_message = None
        doc.updated_at = utcnow()
        job.status, job.stage, job.finished_at = "done", "done", utcnow()
        job.error_code = job.error_message = None
        job.lease_owner, job.lease_expires_at = None, None
    return Outcome.DONE


def _document_or_fail(s: Session, job: JobRow) -> DocumentRow | None:
    """The job's document; a job whose document row is gone fails, as it has nothing to read."""
    doc = s.get(DocumentRow, job.document_id)
    if doc is None:
        _fail_locked(job, None, "document_missing", f"the job's document {job.document_id} is gone")
    return doc


def _mapping(value: object) -> dict[str, Any]:
    # The result contract always has these objects; anything else reads as empty, not as a crash.
    return value if isinstance(value, dict) else {}


def _fail_locked(job: JobRow, doc: DocumentRow | None, code: str, message: str) -> None:
    now = utcnow()
    job.status, job.stage, job.finished_at = "failed", "failed", now
    job.error_code, job.error_message = code, message
    job.lease_owner, job.lease_expires_at = None, None
    if doc is not None:
        doc.status, doc.error_code, doc.error_message, doc.updated_at = "failed", code, message, now


def _finish_failure(
    db: Database, job_id: int, owner: str, code: str, message: str, *, final: bool
) -> Outcome:
    with db.session() as s:
        job = repo.owns(s, job_id, owner)
        if job is None:
            return Outcome.LOST_LEASE
        doc = _document_or_fail(s, job)
        if doc is None:
            return Outcome.FAILED
        if final or job.attempts >= job.max_attempts:
            _fail_locked(job, doc, code, message)
            return Outcome.FAILED
        # Transient or unknown: try again later, backing off, with the reason kept on the job.
        job.status, job.stage = "queued", "retry_wait"
        job.error_code, job.error_message = code, message
        job.lease_owner, job.lease_expires_at = None, None
        job.not_before = utcnow() + timedelta(seconds=min(60, 2**job.attempts))
        doc.status, doc.updated_at = "queued", utcnow()
        return Outcome.REQUEUED


def recover_dead_worker(db: Database, owner: str) -> list[int]:
    """Hand on the jobs of a worker known to be dead (killed, out of memory) now, not when the lease runs
    out: each lease expires at once so the next worker claims it, counting an attempt as usual. A job
    that has used all its attempts this way fails with ``worker_died``. Returns the jobs handed on."""
    handed_on = []
    with db.session() as s:
        for job in repo.jobs_leased_by(s, owner):
            doc = _document_or_fail(s, job)
            if doc is None:
                continue
            if job.attempts >= job.max_attempts:
                _fail_locked(
                    job,
                    doc,
                    "worker_died",
                    f"gave up after {job.attempts} attempts: the worker process running this job died "
                    "each time (killed, or out of memory)",
                )
                continue
            # The reason stays on the job while it waits; a later success clears it.
            job.error_code = "worker_died"
            job.error_message = f"the worker running attempt {job.attempts} died; running it again"
            job.lease_expires_at = utcnow() - timedelta(seconds=1)
            handed_on.append(job.id)
    return handed_on


def run_next(db: Database, store: LocalFileStore, settings: Settings, owner: str) -> Outcome:
    """Run one claimable job if there is one."""
    with db.session() as s:
        ids = repo.claimable_job_ids(s, limit=8)
    for job_id in ids:
        outcome = process_job(db, store, settings, job_id, owner)
        if outcome != Outcome.NOT_CLAIMED:
            return outcome
    return Outcome.NOT_CLAIMED


def drain(db: Database, store: LocalFileStore, settings: Settings, owner: str = "drain") -> int:
    """Run claimable jobs until none is left (tests and `gongkai worker --once`); returns the count."""
    n = 0
    while run_next(db, store, settings, owner) != Outcome.NOT_CLAIMED:
        n += 1
    return n
