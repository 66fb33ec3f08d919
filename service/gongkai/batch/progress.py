"""What a person (or a log) sees while a batch runs: a rich progress bar, JSON lines, or nothing."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any, Protocol

# A file's fate in this run: processed now (done/failed), found done or failed before (skipped),
# the same bytes as another file (duplicate), or unreadable before any processing (failed).
OUTCOMES = ("done", "failed", "skipped", "duplicate")


class Reporter(Protocol):
    def start(self, total: int | None, resumed: int) -> None: ...

    def document(self, path: str, outcome: str, info: dict[str, Any]) -> None: ...

    def finish(self, counts: dict[str, int], out_dir: str) -> None: ...

    def close(self) -> None: ...


class QuietReporter:
    def start(self, total: int | None, resumed: int) -> None:
        pass

    def document(self, path: str, outcome: str, info: dict[str, Any]) -> None:
        pass

    def finish(self, counts: dict[str, int], out_dir: str) -> None:
        pass

    def close(self) -> None:
        pass


class JsonReporter:
    """One JSON object per line and event, flushed at once (a log must survive a kill)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._out = stream or sys.stdout

    def _emit(self, event: str, **fields: Any) -> None:
        self._out.write(
            json.dumps({"event": event, "at": round(time.time(), 3), **fields}, ensure_ascii=False)
        )
        self._out.write("\n")
        self._out.flush()

    def start(self, total: int | None, resumed: int) -> None:
        self._emit("start", total=total, requeued=resumed)

    def document(self, path: str, outcome: str, info: dict[str, Any]) -> None:
        self._emit("document", path=path, outcome=outcome, **info)

    def finish(self, counts: dict[str, int], out_dir: str) -> None:
        self._emit("finish", counts=counts, out=out_dir)

    def close(self) -> None:
        pass


class RichReporter:
    """A bar with done/failed counts, pages per second and the time left."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]gongkai batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "done {task.fields[done]} · failed {task.fields[failed]} · skipped {task.fields[skipped]}"
            ),
            TextColumn("· {task.fields[rate]} pages/s"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._task: Any = None
        self._counts = dict.fromkeys(OUTCOMES, 0)
        self._pages = 0
        self._t0 = time.monotonic()

    def start(self, total: int | None, resumed: int) -> None:
        self._progress.start()
        self._t0 = time.monotonic()
        self._task = self._progress.add_task("batch", total=total, done=0, failed=0, skipped=0, rate="0.0")
        if resumed:
            self._console.print(f"resuming: {resumed} document(s) interrupted last time are queued again")

    def document(self, path: str, outcome: str, info: dict[str, Any]) -> None:
        self._counts[outcome] = self._counts.get(outcome, 0) + 1
        if outcome == "done":
            self._pages += int(info.get("pages") or 0)
        if outcome == "failed":
            self._console.print(f"[red]failed[/red] {path}: {info.get('error_code')}: {info.get('error')}")
        rate = self._pages / max(time.monotonic() - self._t0, 1e-6)
        total = self._progress.tasks[0].total if self._progress.tasks else None
        completed = sum(self._counts.values())
        self._progress.update(
            self._task,
            completed=completed,
            total=max(total, completed) if total is not None else None,
            done=self._counts["done"],
            failed=self._counts["failed"],
            skipped=self._counts["skipped"] + self._counts["duplicate"],
            rate=f"{rate:.1f}",
        )

    def finish(self, counts: dict[str, int], out_dir: str) -> None:
        self._progress.stop()
        order = [*OUTCOMES, *sorted(set(counts) - set(OUTCOMES))]
        line = ", ".join(f"{k} {counts[k]}" for k in order if counts.get(k)) or "no files found"
        self._console.print(f"{line}; dataset in {out_dir}")

    def close(self) -> None:
        self._progress.stop()


def make_reporter(mode: str) -> Reporter:
    if mode == "json":
        return JsonReporter()
    if mode == "quiet":
        return QuietReporter()
    return RichReporter()
