"""Running the pipeline over documents: worker processes, warm-up, timing, peak memory, outcomes.

Each document runs in a worker process (crash isolation, peak memory per document). The pipeline's
settings are one ``PipelineOptions`` built in the parent and handed to every worker as an argument.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from gongkai.devtools.evaluation.discovery import Item, first_line
from gongkai.errors import GongkaiError
from gongkai.pipeline.ocr.memory import status_mb
from gongkai.pipeline.result import ExtractionResult
from gongkai.settings import PipelineOptions


@dataclass
class Outcome:
    """What one worker run produced: a result or the error, and how long and how much memory."""

    result: ExtractionResult | None
    error: str | None
    error_type: str | None
    traceback: str | None
    seconds: float
    # Peak RSS of the process that ran the document, and of the largest subprocess it started and
    # reaped meanwhile (the OCR stage's page workers), when that set a new high.
    peak_rss_mb: float | None
    peak_child_rss_mb: float | None = None


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ≥ 4.0: writing 5 to clear_refs); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _maxrss_mb(who: int) -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return resource.getrusage(who).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _peak_rss_mb(reset_ok: bool) -> float | None:
    if reset_ok:
        peak = status_mb("VmHWM")
        if peak is not None:
            return peak
    return _maxrss_mb(resource.RUSAGE_SELF)  # fallback: the lifetime peak, an upper bound


class DocumentTimeout(Exception):
    """One document ran longer than the harness's per-document limit."""


def _on_alarm(signum: int, frame: object) -> None:
    raise DocumentTimeout("the document took longer than the per-document time limit")


def run_one(path: str, timeout: float | None = None, options: PipelineOptions | None = None) -> Outcome:
    """Extract one document in this process; every exception becomes part of the outcome.

    ``timeout`` (seconds) interrupts the extraction with SIGALRM (main thread, POSIX only); native
    code that never returns to Python cannot be interrupted this way. ``options`` is what the
    pipeline runs with (None: the pipeline's own defaults).
    """
    from gongkai.pipeline.extract import extract_path

    use_alarm = bool(timeout) and hasattr(signal, "setitimer") and _on_main_thread()
    reset_ok = _reset_peak_rss()
    children_before = _maxrss_mb(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result: ExtractionResult | None = None
    error = error_type = tb = None
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        if use_alarm and timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        result = extract_path(path, options=options)
    except GongkaiError as exc:  # bad input, as the CLI would report it
        error, error_type = str(exc), type(exc).__name__
    except DocumentTimeout as exc:
        error, error_type = f"{exc} ({timeout:g} s)", "Timeout"
    except Exception as exc:  # a pipeline bug: keep the traceback for the lead
        error, error_type = first_line(exc), type(exc).__name__
        tb = traceback.format_exc(limit=8)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
    seconds = time.perf_counter() - t0
    children_after = _maxrss_mb(resource.RUSAGE_CHILDREN)
    child_peak = children_after if children_after > children_before else None
    return Outcome(result, error, error_type, tb, seconds, _peak_rss_mb(reset_ok), child_peak)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def warm_up(path: str | None, options: PipelineOptions | None) -> None:
    """Prepare a worker: imports, and one untimed extraction with the run's options.

    The first extraction in a process loads what the pipeline loads lazily (word lists, narrative
    models: seconds); a service pays that once at start, so no document's time should carry it.
    """
    from gongkai.pipeline.extract import extract_path

    if path is not None:
        # Errors do not matter here: the document is run (and scored) again later.
        with contextlib.suppress(Exception):
            extract_path(path, options=options)


def _pool(workers: int, cfg: RunConfig) -> ProcessPoolExecutor:
    args = (cfg.warm_document, cfg.options)
    if "forkserver" in multiprocessing.get_all_start_methods():
        # Workers fork from a server that has the pipeline imported: fast start, no parent state.
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(["gongkai.pipeline.extract"])
        return ProcessPoolExecutor(workers, mp_context=server, initializer=warm_up, initargs=args)
    spawn = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=spawn, initializer=warm_up, initargs=args)


Progress = Callable[[int, int, Item, Outcome], None]
# What a worker calls per document (a module-level function, so that it pickles): run_one by default.
# It gets the document's path, the time limit and the run's options.
Runner = Callable[[str, float | None, PipelineOptions | None], Outcome]


@dataclass
class RunConfig:
    workers: int = 2
    timeout: float | None = None
    runner: Runner = run_one
    warm_document: str | None = None
    # Pickled to every worker with each document: the one place the pipeline's settings come from.
    options: PipelineOptions | None = None


def _warm_document(items: Sequence[Item]) -> str | None:
    """A born-digital document of the run (fast), else the first one."""
    runnable = [it for it in items if it.skip_reason is None and it.document is not None]
    digital = [it for it in runnable if it.truth.kind in ("pdf", "html", "docx")]
    chosen = digital or runnable
    return str(chosen[0].document) if chosen else None


def ocr_overrides(workers: int, options: PipelineOptions) -> dict[str, int]:
    """With several documents in parallel the cores are taken: the OCR stage should not fan each
    document's pages out over its own processes, nor its ONNX sessions over several threads
    (unless the user set GONGKAI_OCR_WORKERS / GONGKAI_OCR_THREADS: the option is not None)."""
    if workers < 2:
        return {}
    return {name: 1 for name in ("ocr_workers", "ocr_threads") if getattr(options, name) is None}


def worker_options(workers: int, options: PipelineOptions | None = None) -> PipelineOptions:
    """The options every document of a run uses: ``options`` (default: from the environment) with
    ``ocr_overrides`` applied."""
    base = PipelineOptions() if options is None else options
    return base.model_copy(update=ocr_overrides(workers, base))


def run_items(
    items: Sequence[Item],
    workers: int = 2,
    progress: Progress | None = None,
    timeout: float | None = None,
    runner: Runner | None = None,
    warm: bool = True,
    options: PipelineOptions | None = None,
) -> list[Outcome]:
    """Outcomes in the order of ``items`` (skipped items are not run: their slot is never read).

    ``workers`` ≥ 1 runs documents in that many worker processes; a worker that dies (segfault,
    out of memory) fails only its document: the pool is rebuilt and the others rerun one by one.
    ``workers`` = 0 runs in this process (no isolation; for tests and debugging). With ``warm``,
    each worker first extracts one document untimed (see ``warm_up``). ``options`` are the
    pipeline's settings for every document (default: ``worker_options(workers)``).
    """
    runnable = [i for i, it in enumerate(items) if it.skip_reason is None and it.document is not None]
    cfg = RunConfig(
        workers=min(workers, max(1, len(runnable))),  # no idle workers warming up for nothing
        timeout=timeout,
        runner=runner or run_one,
        warm_document=_warm_document(items) if warm else None,
        options=worker_options(workers) if options is None else options,
    )
    outcomes: dict[int, Outcome] = {}
    done = 0

    def finished(i: int, out: Outcome) -> None:
        nonlocal done
        outcomes[i] = out
        done += 1
        if progress is not None:
            progress(done, len(runnable), items[i], out)

    if workers <= 0:
        if runnable:
            warm_up(cfg.warm_document, cfg.options)
        for i in runnable:
            finished(i, cfg.runner(str(items[i].document), timeout, cfg.options))
        return [outcomes.get(i) or _not_run() for i in range(len(items))]

    pending = runnable
    while pending:
        crashed = _run_batch(items, pending, cfg, finished)
        # Which document killed the pool is unknown. The pool works roughly in submission order, so
        # the culprit is among the first workers + 1 casualties (running or queued): rerun those
        # alone (one that crashes again has failed) and the rest together in a fresh pool.
        suspects, pending = crashed[: cfg.workers + 1], crashed[cfg.workers + 1 :]
        for i in suspects:
            try:
                with _pool(1, dataclasses.replace(cfg, warm_document=None)) as solo:
                    out = solo.submit(cfg.runner, str(items[i].document), timeout, cfg.options).result()
            except BrokenProcessPool as exc:
                out = Outcome(None, f"the worker process died ({exc})", "WorkerCrash", None, 0.0, None)
            finished(i, out)
    return [outcomes.get(i) or _not_run() for i in range(len(items))]


def _run_batch(
    items: Sequence[Item], batch: list[int], cfg: RunConfig, finished: Callable[[int, Outcome], None]
) -> list[int]:
    """Run ``batch`` in one pool; the indices whose futures died with the pool, in order."""
    crashed: list[int] = []
    with _pool(cfg.workers, cfg) as pool:
        futures: dict[Future[Outcome], int] = {
            pool.submit(cfg.runner, str(items[i].document), cfg.timeout, cfg.options): i for i in batch
        }
        for fut, i in futures.items():
            try:
                finished(i, fut.result())
            except BrokenProcessPool:
                crashed.append(i)
    return crashed


def _not_run() -> Outcome:
    return Outcome(None, "not run", "Skipped", None, 0.0, None)
