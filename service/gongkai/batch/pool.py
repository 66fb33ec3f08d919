"""The worker processes: hand out documents, time them, and replace a worker that hangs or dies.

A worker is a long-lived spawned process (the pipeline's imports and models load once per worker,
not once per document). A document that runs past the timeout gets its worker killed; a worker that
dies (a segfault, the kernel's OOM killer) is replaced; either way the document gets an ``Outcome``
with the reason and the batch goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from gongkai.batch.worker import Outcome, WorkerConfig, worker_main
from gongkai.errors import GongkaiError

_START_TIMEOUT = 180.0  # a worker that cannot import the pipeline in this long is broken
_START_FAILURES = 3  # workers dying before they are ready, in a row: the setup is wrong, not a document


class WorkersFailedError(GongkaiError):
    code = "workers_failed"


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    started: float = 0.0
    task: str | None = None
    task_started: float = 0.0


class WorkerPool:
    def __init__(self, size: int, config: WorkerConfig, timeout: float) -> None:
        self._ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        self._config = config
        self._timeout = timeout
        self._size = max(1, size)
        # Started on first use: a rerun with nothing new to do never pays for the workers.
        self._slots: list[_Slot] = []
        self._start_failures = 0

    def _ensure_started(self) -> None:
        if not self._slots:
            self._slots = [self._start() for _ in range(self._size)]

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=worker_main, args=(child, self._config), daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent, started=time.monotonic())

    def has_idle(self) -> bool:
        self._ensure_started()
        return any(s.ready and s.task is None for s in self._slots)

    def busy(self) -> int:
        return sum(s.task is not None for s in self._slots)

    def submit(self, task_id: str, data: bytes, filename: str) -> None:
        slot = next(s for s in self._slots if s.ready and s.task is None)
        slot.conn.send((task_id, data, filename))
        slot.task, slot.task_started = task_id, time.monotonic()

    def poll(self, timeout: float = 0.5) -> list[tuple[str, Outcome]]:
        """Outcomes finished within ``timeout`` seconds, including those of killed or dead workers."""
        finished: list[tuple[str, Outcome]] = []
        if not self._slots:
            return finished
        waitables: list[object] = [s.conn for s in self._slots] + [s.process.sentinel for s in self._slots]
        deadline = min([timeout, *(self._left(s) for s in self._slots)])
        ready = wait(waitables, timeout=max(0.0, deadline))  # type: ignore[arg-type]
        for i, slot in enumerate(list(self._slots)):
            if slot.conn in ready:
                try:
                    tag, payload = slot.conn.recv()
                except (EOFError, OSError):
                    pass  # died: handled below with the sentinel
                else:
                    if tag == "ready":
                        slot.ready = True
                        self._start_failures = 0
                    elif tag == slot.task:
                        finished.append((tag, payload))
                        slot.task = None
                    continue
            if not slot.process.is_alive():
                if slot.task is not None:
                    finished.append((slot.task, self._death(slot)))
                elif not slot.ready:
                    self._start_failures += 1
                    if self._start_failures >= _START_FAILURES:
                        raise WorkersFailedError(
                            f"batch workers die before they are ready (exit status {slot.process.exitcode}); "
                            "is --memory-mb too low for the pipeline?"
                        )
                self._replace(i)
            elif slot.task is not None and self._left(slot) <= 0:
                finished.append((slot.task, self._timed_out(slot)))
                self._kill(slot)
                self._replace(i)
            elif not slot.ready and time.monotonic() - slot.started > _START_TIMEOUT:
                raise WorkersFailedError(f"a batch worker did not start within {_START_TIMEOUT:g} s")
        return finished

    def _left(self, slot: _Slot) -> float:
        if slot.task is None:
            return float("inf")
        return self._timeout - (time.monotonic() - slot.task_started)

    def _death(self, slot: _Slot) -> Outcome:
        slot.process.join(1.0)
        code = slot.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = f"the worker process died of {name}"
            if name == "SIGKILL":
                why += " (killed from outside, often the kernel's out-of-memory killer)"
        else:
            why = f"the worker process exited with status {code}"
        return Outcome(
            False, "unknown", error_code="crashed", error=why, seconds=time.monotonic() - slot.task_started
        )

    def _timed_out(self, slot: _Slot) -> Outcome:
        return Outcome(
            False,
            "unknown",
            error_code="timeout",
            error=f"still running after {self._timeout:g} s; the worker was stopped",
            seconds=time.monotonic() - slot.task_started,
        )

    def _kill(self, slot: _Slot) -> None:
        pid = slot.process.pid
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)  # the worker and the processes it started
            except (ProcessLookupError, PermissionError):
                slot.process.kill()
        slot.process.join(5.0)

    def _replace(self, i: int) -> None:
        old = self._slots[i]
        old.conn.close()
        self._slots[i] = self._start()

    def close(self) -> None:
        for slot in self._slots:
            try:
                if slot.task is None and slot.process.is_alive():
                    slot.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for slot in self._slots:
            slot.process.join(2.0 if slot.task is None else 0.0)
            if slot.process.is_alive():
                self._kill(slot)
            slot.conn.close()
