"""OCR stage: scanned pages and page images → the document model (PP-OCR via ONNX Runtime).

``ocr_available(options)`` says whether the ``ocr`` extra and its in-wheel models are installed and
the options allow OCR; ``ocr_images`` reads page images, spreading pages over the CPU cores: by
default on threads of this process that share one set of models (ONNX Runtime, OpenCV and numpy
release the GIL for the work that counts), or on worker processes that each load the models once
(``ocr_pool="processes"``). Engines, workers and threads come from ``PipelineOptions``.
"""

from __future__ import annotations

import atexit
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from gongkai.pipeline.datamodel import Page
from gongkai.pipeline.ocr.models import OcrUnavailableError, engine_installed
from gongkai.settings import PipelineOptions

__all__ = ["OcrUnavailableError", "ocr_available", "ocr_images"]


@lru_cache(maxsize=4)
def _installed(engine: str) -> bool:
    # Looking for the wheels' model files is cheap but not free; the answer cannot change in a process.
    return engine_installed(engine)


def ocr_available(options: PipelineOptions | None = None) -> bool:
    """True when OCR is switched on (``options.ocr``) and its engine is installed (the ``ocr`` extra)."""
    options = options or PipelineOptions()
    return options.ocr and _installed(options.ocr_engine)


def _ocr_one(args: tuple[Any, int, float | None, int, PipelineOptions, bool]) -> tuple[Page, Any]:
    from gongkai.pipeline.ocr.engine import get_engine
    from gongkai.pipeline.ocr.page import ocr_page

    image, number, dpi, threads, options, defer_layout = args
    return ocr_page(
        image,
        number,
        get_engine(options.ocr_engine, threads=threads),
        dpi=dpi,
        second_engine=options.ocr_second_engine,
        layout_model=options.layout_model,
        defer_layout=defer_layout,
    )


_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(workers: int) -> ProcessPoolExecutor:
    """One pool per process, kept across documents: workers load the models once and keep them."""
    global _POOL, _POOL_SIZE
    if _POOL is None or workers != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown()
        import multiprocessing as mp

        # spawn, not fork: forking a process whose ONNX Runtime thread pools are running can
        # deadlock the child.
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        _POOL_SIZE = workers
        atexit.register(_POOL.shutdown)
    return _POOL


def shutdown_pool() -> None:
    """Stop the worker processes (they are reaped, so their CPU time shows in RUSAGE_CHILDREN)."""
    global _POOL, _POOL_SIZE
    if _POOL is not None:
        _POOL.shutdown()
        _POOL, _POOL_SIZE = None, 0


def ocr_images(
    images: Sequence[Any],
    numbers: Sequence[int],
    dpis: Sequence[float | None],
    options: PipelineOptions | None = None,
) -> list[tuple[Page, Any]]:
    """OCR page images (numpy BGR/grey arrays). Several pages use several processes, one per core
    (``options.ocr_workers``), each with single-threaded sessions; one page uses every core inside
    ONNX Runtime (``options.ocr_threads``). The options travel to the worker processes with each page.
    The layout model of a document of several pages runs last, on the pages that need it
    (``page.settle_running_lines``)."""
    options = options or PipelineOptions()
    if not options.ocr:
        raise OcrUnavailableError("OCR is switched off (GONGKAI_OCR=0 or --no-ocr)")
    if not ocr_available(options):
        raise OcrUnavailableError("OCR is not installed: pip install 'gongkai[ocr]'")
    from gongkai.pipeline.ocr.memory import cap_arenas

    cap_arenas()
    from gongkai.pipeline.ocr.page import pending_regions, settle_running_lines

    jobs = list(zip(images, numbers, dpis, strict=True))
    workers = options.workers_for(len(jobs))
    # Several pages: the layout model waits until all are read, and then reads only the pages whose
    # band lines are not running heads or page numbers of the document (settle_running_lines).
    defer = len(jobs) > 1
    if workers <= 1:
        threads = options.threads_per_document()
        results = [_ocr_one((img, n, d, threads, options, defer)) for img, n, d in jobs]
        settle_running_lines(results)
    elif options.ocr_pool == "processes":
        pool = _pool(workers)
        results = list(pool.map(_ocr_one, [(img, n, d, 1, options, defer) for img, n, d in jobs]))
        settle_running_lines(results, lambda waiting: pool.map(pending_regions, waiting))
    else:
        results = _ocr_threads(jobs, workers, options, defer)
    return results


def _ocr_threads(
    jobs: list[tuple[Any, int, float | None]], workers: int, options: PipelineOptions, defer: bool
) -> list[tuple[Page, Any]]:
    """Pages on ``workers`` threads with single-threaded sessions, as the worker processes read them
    (so the same readings), without starting processes or loading the models once per process.
    Recognition batches go to ``workers`` more threads shared by the pages, so that a page read
    alone at the end keeps every core busy."""
    from gongkai.pipeline.ocr import engine
    from gongkai.pipeline.ocr.layout_model import get_layout_model
    from gongkai.pipeline.ocr.page import settle_running_lines

    # Load the models here, once, before the page threads ask for them at the same moment. The
    # layout model of a deferred document loads only if a page turns out to need it.
    engine.get_engine(options.ocr_engine, threads=1)
    if options.layout_model and not defer:
        get_layout_model()
    with ThreadPoolExecutor(workers, thread_name_prefix="ocr-batch") as batches:

        def one(job: tuple[Any, int, float | None]) -> tuple[Page, Any]:
            engine._batch_threads.pool = batches
            try:
                return _ocr_one((*job, 1, options, defer))
            finally:
                engine._batch_threads.pool = None

        with ThreadPoolExecutor(workers, thread_name_prefix="ocr-page") as pages:
            results = list(pages.map(one, jobs))
            settle_running_lines(results, lambda waiting: _loaded_then(pages, waiting))
            return results


def _loaded_then(pool: ThreadPoolExecutor, waiting: list[Any]) -> list[Any]:
    """The layout model's regions of the waiting pages on the page threads, the model loaded first
    (so the threads do not all load it at once)."""
    from gongkai.pipeline.ocr.layout_model import get_layout_model
    from gongkai.pipeline.ocr.page import pending_regions

    get_layout_model()
    return list(pool.map(pending_regions, waiting))
