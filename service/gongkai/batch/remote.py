"""Scale-out: documents go to the Celery workers of ``gongkai worker`` on Redis; the batch stays the writer.

The batch process sends one task per document (``gongkai.batch_document``, registered by the server's
Celery app in ``gongkai.server.jobs.batch_task``, which runs ``gongkai.batch.worker.process_document``,
the function the local workers run). Workers only compute: each pushes its ``Outcome`` onto a Redis
list of this batch; the batch process writes ``results/`` and the manifest exactly as for a local
worker. Nothing here imports the server: the task is sent by name.

The exactly-once rule. Every send of a document gets a fresh token, kept in the Redis hash
``gongkai:batch:<id>:current`` (sha256 → token) until its outcome is taken. A reply counts only if
its token is the current one; a worker that picks up a message whose token is no longer current
skips it. So a task sent again after its report timeout (its worker was killed, or it waits behind a
dead one), or delivered twice by the broker, completes the document once. After a kill -9 of the
batch process, the next run takes the replies that arrived meanwhile and sends the rest again.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from gongkai.batch.worker import Outcome, WorkerConfig
from gongkai.errors import InputError

TASK_NAME = "gongkai.batch_document"
QUEUE = "gongkai"  # the queue `gongkai worker` consumes: the same workers as the service's jobs
DEFAULT_PROCESSOR = "gongkai.batch.worker:process_document"
_REPLIES_READ = 100


def current_key(batch_id: str) -> str:
    return f"gongkai:batch:{batch_id}:current"


def replies_key(batch_id: str) -> str:
    return f"gongkai:batch:{batch_id}:replies"


def encode_outcome(sha256: str, token: str, outcome: Outcome) -> str:
    return json.dumps({"sha256": sha256, "token": token, "outcome": asdict(outcome)}, ensure_ascii=False)


def decode_reply(raw: bytes | str) -> tuple[str, str, Outcome] | None:
    """(sha256, token, Outcome) of a reply; None for anything malformed (it is dropped, not fatal)."""
    try:
        msg = json.loads(raw)
        return str(msg["sha256"]), str(msg["token"]), Outcome(**msg["outcome"])
    except (ValueError, KeyError, TypeError):
        return None


def task_kwargs(
    batch_id: str, sha256: str, token: str, data: bytes, filename: str, config: WorkerConfig
) -> dict[str, Any]:
    """What a task carries: the bytes (base64: workers need no shared disk) and the pipeline options,
    so a worker reads the document exactly as a local batch worker would."""
    return {
        "batch_id": batch_id,
        "sha256": sha256,
        "token": token,
        "data_b64": base64.b64encode(data).decode("ascii"),
        "filename": filename,
        "options": config.options.model_dump(mode="json"),
        "convert_timeout": config.convert_timeout,
    }


@dataclass
class _InFlight:
    data: bytes
    filename: str
    token: str
    sent_at: float
    sends: int


class RemotePool:
    """The ``WorkerPool`` interface (has_idle, submit, poll, busy, close) over Celery and Redis.

    ``size`` documents are in flight at once (set it to the workers' total concurrency or a little
    more). A document not reported back within ``report_timeout`` seconds of its send is sent again
    with a new token, at most ``max_sends`` times; then it fails with ``lost``.
    """

    def __init__(
        self,
        broker_url: str,
        batch_id: str,
        size: int,
        config: WorkerConfig,
        timeout: float,
        report_timeout: float,
        *,
        max_sends: int = 3,
        on_resend: Callable[[str], None] | None = None,
    ) -> None:
        try:
            import redis
            from celery import Celery
        except ImportError as exc:  # pragma: no cover - the service extra brings both
            raise InputError("--broker needs Celery and redis: pip install -e '.[service]'") from exc
        if config.processor != DEFAULT_PROCESSOR:
            raise InputError("--processor is for local workers; Celery workers run the pipeline")
        self._redis = redis.Redis.from_url(broker_url)
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise InputError(f"the broker {broker_url} is not reachable ({exc})") from exc
        self._app = Celery("gongkai-batch", broker=broker_url, set_as_current=False)
        self._app.conf.update(
            task_default_queue=QUEUE,
            broker_connection_retry_on_startup=True,
            broker_transport_options={"visibility_timeout": 3600},
        )
        self.batch_id = batch_id
        self._size = max(1, size)
        self._config = config
        self._timeout = timeout
        self._report_timeout = report_timeout
        self._max_sends = max_sends
        self._on_resend = on_resend
        self._inflight: dict[str, _InFlight] = {}

    # --- the WorkerPool interface ------------------------------------------------------------------

    def has_idle(self) -> bool:
        return len(self._inflight) < self._size

    def busy(self) -> int:
        return len(self._inflight)

    def submit(self, sha256: str, data: bytes, filename: str) -> None:
        self._inflight[sha256] = _InFlight(data, filename, "", 0.0, 0)
        self._send(sha256)

    def poll(self, timeout: float = 0.5) -> list[tuple[str, Outcome]]:
        end = time.monotonic() + timeout
        while True:
            finished = self._take_replies()
            finished += self._overdue()
            if finished or time.monotonic() >= end:
                return finished
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def close(self) -> None:
        # Documents still in flight keep their tokens: their replies are taken by the next run.
        self._app.close()
        self._redis.close()

    # --- recovery after a stop -------------------------------------------------------------------

    def adopt(self, running: list[str]) -> tuple[list[tuple[str, Outcome]], list[str]]:
        """For documents a stopped run left ``running``: the outcomes that arrived since (with a
        current token), and the rest, whose tokens are dropped so stale tasks skip them."""
        wanted = set(running)
        found: dict[str, Outcome] = {}
        current = self._current()
        raw = self._redis.lrange(replies_key(self.batch_id), 0, -1)
        for item in raw:
            reply = decode_reply(item)
            if reply and reply[0] in wanted and current.get(reply[0]) == reply[1]:
                found[reply[0]] = reply[2]
        rest = [s for s in running if s not in found]
        pipe = self._redis.pipeline()
        if found or rest:
            pipe.hdel(current_key(self.batch_id), *found, *rest)
        pipe.ltrim(replies_key(self.batch_id), len(raw), -1)  # replies pushed meanwhile stay
        pipe.execute()
        return list(found.items()), rest

    # --- internals --------------------------------------------------------------------------------

    def _current(self) -> dict[str, str]:
        raw: dict[bytes, bytes] = self._redis.hgetall(current_key(self.batch_id))  # type: ignore[assignment]
        return {k.decode(): v.decode() for k, v in raw.items()}

    def _send(self, sha256: str) -> None:
        item = self._inflight[sha256]
        item.token = uuid.uuid4().hex
        item.sends += 1
        item.sent_at = time.monotonic()
        # The token is current before the task exists, so a worker never sees a task without one.
        self._redis.hset(current_key(self.batch_id), sha256, item.token)
        self._app.send_task(
            TASK_NAME,
            kwargs=task_kwargs(self.batch_id, sha256, item.token, item.data, item.filename, self._config),
            queue=QUEUE,
            # The worker stops a document at the batch's timeout (soft: reported as `timeout`); the
            # hard limit is for code the soft one cannot interrupt.
            soft_time_limit=self._timeout,
            time_limit=self._timeout + 30,
        )

    def _take_replies(self) -> list[tuple[str, Outcome]]:
        key = replies_key(self.batch_id)
        raw = self._redis.lrange(key, 0, _REPLIES_READ - 1)
        if not raw:
            return []
        finished: list[tuple[str, Outcome]] = []
        taken: list[str] = []
        for item in raw:
            reply = decode_reply(item)
            if reply is None:
                continue
            sha, token, outcome = reply
            mine = self._inflight.get(sha)
            if mine is None or mine.token != token:
                continue  # a stale send's reply: its document completed (or will) through the current one
            del self._inflight[sha]
            taken.append(sha)
            finished.append((sha, outcome))
        # The outcomes are handed to the runner, which writes them before its next poll; removing
        # them here is safe because a kill before that write finds the document `running` and sends
        # it again (the reply is gone, the work is redone, the document still completes once).
        pipe = self._redis.pipeline()
        pipe.ltrim(key, len(raw), -1)
        if taken:
            pipe.hdel(current_key(self.batch_id), *taken)
        pipe.execute()
        return finished

    def _overdue(self) -> list[tuple[str, Outcome]]:
        now = time.monotonic()
        failed: list[tuple[str, Outcome]] = []
        for sha, item in list(self._inflight.items()):
            if now - item.sent_at < self._report_timeout:
                continue
            if item.sends < self._max_sends:
                if self._on_resend:
                    self._on_resend(sha)
                self._send(sha)
                continue
            del self._inflight[sha]
            self._redis.hdel(current_key(self.batch_id), sha)
            failed.append(
                (
                    sha,
                    Outcome(
                        False,
                        "unknown",
                        error_code="lost",
                        error=f"no worker reported back within {self._report_timeout:g} s, "
                        f"{item.sends} times (workers killed, or none running on the broker)",
                        seconds=now - item.sent_at,
                    ),
                )
            )
        return failed
