"""Celery on Redis for scale-out: the task is ``gongkai.server.jobs.runner.process_job``, the same code the
local pool runs. Acks are late and a lost worker's message is rejected back to the queue; the job
lease in the database decides who really runs a job, so a message delivered twice is harmless.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

from gongkai.settings import Settings

_state: dict[str, Any] = {}


def _runtime(settings: Settings) -> tuple[Any, Any]:
    # One engine per worker process (prefork children must not share the parent's connections).
    pid = os.getpid()
    if _state.get("pid") != pid:
        from gongkai.server.storage.db import Database
        from gongkai.server.storage.files import LocalFileStore

        _state.update(pid=pid, db=Database(settings.database_url), store=LocalFileStore(settings.data_dir))
    return _state["db"], _state["store"]


def make_celery(settings: Settings) -> Celery:
    app = Celery("gongkai", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue="gongkai",
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
    )

    @app.task(name="gongkai.run_job", bind=True)
    def run_job(self: Any, job_id: int) -> str:
        from gongkai.pipeline.ocr.memory import release_memory
        from gongkai.server.jobs.runner import Outcome, process_job, worker_name

        db, store = _runtime(settings)
        try:
            owner = worker_name("celery", self.request.id or 0)
            outcome = process_job(db, store, settings, int(job_id), owner)
        finally:
            release_memory()  # a Celery worker cannot tell whether another job follows: trim after each
        if outcome == Outcome.REQUEUED:
            # Retry after the backoff the runner recorded on the job row.
            self.apply_async(args=[job_id], countdown=min(60, 2 ** max(1, _attempts(db, int(job_id)))))
            _mark_dispatched(db, int(job_id))
        return outcome.value

    # `gongkai batch --broker` sends its documents to the same workers.
    from gongkai.server.jobs.batch_task import register_batch_task

    register_batch_task(app)
    return app


def _attempts(db: Any, job_id: int) -> int:
    from gongkai.server.storage.models import JobRow

    with db.session() as s:
        job = s.get(JobRow, job_id)
        return job.attempts if job else 1


def _mark_dispatched(db: Any, job_id: int) -> None:
    """The retry is on the broker already: keep the sweeper from sending it again before its timeout."""
    from gongkai.server.storage import repository as repo

    with db.session() as s:
        repo.mark_dispatched(s, [job_id])
