"""Giving memory back after a scanned document, where the C library allows it (glibc).

Reading a scan allocates and frees hundreds of MB (page images, detector maps, recogniser batches)
from several threads. glibc keeps what is freed in per-thread arenas and returns little of it to the
system, so a process that had read scans idled near its peak (0.8-1.0 GB) with nothing in use. Two
glibc calls fix most of that: fewer arenas for the OCR threads (``mallopt(M_ARENA_MAX)``; more
arenas only help many threads that allocate small objects at once) and ``malloc_trim`` when a
worker goes idle (not between documents read back to back: the next one would fault the same pages
in again, ~10 % of a scan's time). Elsewhere (musl, macOS) both are no-ops: the readings never
depend on them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from functools import cache
from typing import Any

log = logging.getLogger("gongkai.ocr")

# glibc's mallopt parameter number for the arena cap (malloc.h: #define M_ARENA_MAX -8).
M_ARENA_MAX = -8
# Two arenas for the page and batch threads: measured on the benchmark scan, peak and idle memory
# were lowest with 1-2 and the time per page unchanged (BENCHMARKS.md, issue 15).
OCR_ARENAS = 2

_capped = threading.Lock()
_done: list[bool] = []


@cache
def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim, libc.mallopt  # noqa: B018 - both must exist (glibc), or neither is used
    except (OSError, AttributeError):
        return None
    return libc


def cap_arenas(arenas: int = OCR_ARENAS) -> bool:
    """Cap glibc's malloc arenas (once per process, before the OCR threads start). True if capped."""
    libc = _glibc()
    if libc is None:
        return False
    with _capped:
        if not _done:
            _done.append(bool(libc.mallopt(M_ARENA_MAX, arenas)))
    return _done[0]


def release_memory() -> bool:
    """Return freed heap memory to the system (``malloc_trim(0)``); True if some was returned."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))


def status_mb(field: str) -> float | None:
    """A memory field of this process's /proc/self/status (``VmRSS``, ``VmHWM``) in MB; None where
    there is no /proc (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
