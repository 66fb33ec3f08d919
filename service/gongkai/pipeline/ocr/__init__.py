"""OCR stage: scanned pages and page images → the document model (PP-OCR via ONNX Runtime).

``ocr_available()`` says whether the ``ocr`` extra and its in-wheel models are installed;
``ocr_images`` reads page images, spreading pages over the CPU cores with the models loaded once
per worker process.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

from gongkai.pipeline.datamodel import Page
from gongkai.pipeline.ocr.models import OcrUnavailableError, engine_installed

__all__ = ["OcrUnavailableError", "ocr_available", "ocr_images", "workers_for"]


@lru_cache(maxsize=1)
def ocr_available() -> bool:
    """True when the OCR extra is installed (disable with GONGKAI_OCR=0)."""
    if os.environ.get("GONGKAI_OCR", "1") == "0":
        return False
    from gongkai.pipeline.ocr.engine import default_engine_name

    return engine_installed(default_engine_name())


def threads_per_document() -> int:
    """ONNX Runtime threads when one process reads a document's pages: every core, unless
    GONGKAI_OCR_THREADS says otherwise (several documents in parallel already use the cores)."""
    env = os.environ.get("GONGKAI_OCR_THREADS")
    return max(1, int(env)) if env else (os.cpu_count() or 1)


def workers_for(n_pages: int) -> int:
    env = os.environ.get("GONGKAI_OCR_WORKERS")
    cores = int(env) if env else (os.cpu_count() or 1)
    return max(1, min(cores, n_pages))


def _ocr_one(args: tuple[Any, int, float | None, int]) -> tuple[Page, Any]:
    from gongkai.pipeline.ocr.engine import get_engine
    from gongkai.pipeline.ocr.page import ocr_page

    image, number, dpi, threads = args
    return ocr_page(image, number, get_engine(threads=threads), dpi=dpi)


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
    images: Sequence[Any], numbers: Sequence[int], dpis: Sequence[float | None]
) -> list[tuple[Page, Any]]:
    """OCR page images (numpy BGR/grey arrays). Several pages use several processes, one per core,
    each with single-threaded sessions; one page uses every core inside ONNX Runtime."""
    if not ocr_available():
        raise OcrUnavailableError("OCR is not installed: pip install 'gongkai[ocr]'")
    jobs = list(zip(images, numbers, dpis, strict=True))
    workers = workers_for(len(jobs))
    if workers <= 1:
        return [_ocr_one((img, n, d, threads_per_document())) for img, n, d in jobs]
    return list(_pool(workers).map(_ocr_one, [(img, n, d, 1) for img, n, d in jobs]))
