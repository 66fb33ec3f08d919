"""One document in a worker process: detect, convert when needed, extract; limits set on the process.

The child lowers its own address-space limit (RLIMIT_AS) before it imports the pipeline, so a
decompression bomb or a runaway allocation ends in a ``MemoryError`` (or the child's death), never
in the machine swapping. Everything the child reports is plain data (``Outcome``); the parent writes
the files and the manifest, so a child killed at any moment leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from gongkai.batch.detect import Kind, detect
from gongkai.errors import GongkaiError, UnsupportedTypeError
from gongkai.settings import PipelineOptions

if TYPE_CHECKING:
    from gongkai.pipeline.result import ExtractionResult

WORD_MEDIA_TYPE = "application/msword"
_TABLE_NAMES = {"active": "二 (active disclosure)", "requests": "三 (requests)", "appeals": "四 (appeals)"}


@dataclass
class WorkerConfig:
    options: PipelineOptions
    memory_bytes: int | None = 4 * 1024**3
    convert_timeout: float = 120.0
    scratch_dir: Path | None = None  # LibreOffice profiles live here (cleaned by the runner)
    # "module:function" taking (data, filename, config) -> Outcome; tests swap in faulty ones.
    processor: str = "gongkai.batch.worker:process_document"


@dataclass
class Outcome:
    ok: bool
    kind: str
    result_json: str | None = None
    error_code: str | None = None
    error: str | None = None
    pages: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def process_document(data: bytes, filename: str, config: WorkerConfig) -> Outcome:
    """Extract one file by what its bytes are; a document's own problem is an Outcome, not a raise."""
    from gongkai.pipeline.extract import extract_bytes, extract_document

    start = time.monotonic()
    kind = detect(data)
    try:
        result: ExtractionResult
        if kind in (Kind.PDF, Kind.HTML, Kind.DOCX, Kind.IMAGE):
            result = extract_bytes(data, filename, options=config.options)
        elif kind == Kind.WORD:
            result = _extract_word(data, filename, config)
        elif kind == Kind.TEXT:
            from gongkai.pipeline.datamodel import SourceInfo
            from gongkai.pipeline.ingest.text import TEXT, read_text

            source = SourceInfo(Path(filename).name, hashlib.sha256(data).hexdigest(), TEXT, len(data))
            result = extract_document(read_text(data, source), config.options)
            result.warnings.extend(missing_table_warnings(result))
        else:
            raise UnsupportedTypeError(
                "not a document Gongkai reads (PDF, image, HTML, DOCX, DOC/WPS or text), judged by content"
            )
    except GongkaiError as exc:
        return Outcome(False, kind.value, error_code=exc.code, error=str(exc), seconds=_since(start))
    except MemoryError:
        limit = config.memory_bytes or 0
        return Outcome(
            False,
            kind.value,
            error_code="memory_limit",
            error=f"the document needed more than the memory cap ({limit // 1024**2} MiB)",
            seconds=_since(start),
        )
    return Outcome(
        True, kind.value, result_json=result.to_json(), pages=result.source.pages, seconds=_since(start)
    )


def _extract_word(data: bytes, filename: str, config: WorkerConfig) -> ExtractionResult:
    from gongkai.batch.convert import to_docx
    from gongkai.pipeline.extract import extract_bytes

    profile = None
    if config.scratch_dir is not None:
        # One profile per worker process: conversions in one worker never overlap, and a fresh
        # profile per document would cost LibreOffice's first-start setup every time.
        profile = config.scratch_dir / f"lo-profile-{os.getpid()}"
    docx = to_docx(data, timeout=config.convert_timeout, profile_dir=profile)
    result = extract_bytes(docx, Path(filename).with_suffix(".docx").name, options=config.options)
    # The result describes the file as it was found, not the conversion.
    result.source.filename = Path(filename).name
    result.source.sha256 = hashlib.sha256(data).hexdigest()
    result.source.media_type = WORD_MEDIA_TYPE
    result.warnings.append("converted from Word 97–2003/WPS to DOCX by LibreOffice before extraction")
    return result


def missing_table_warnings(result: ExtractionResult) -> list[str]:
    """One warning per statutory table of which not a single cell was recovered."""
    found: dict[str, bool] = {}
    for cid, cell in result.cells.items():
        if not cell.statutory:
            continue
        table = cid.split(".", 1)[0]
        found[table] = found.get(table, False) or not cell.missing
    return [
        f"table_not_recovered: table {_TABLE_NAMES.get(t, t)} could not be recovered from the text; "
        "its cells are missing, not zero"
        for t, ok in found.items()
        if not ok
    ]


def _since(start: float) -> float:
    return round(time.monotonic() - start, 3)


def load_processor(spec: str) -> Callable[[bytes, str, WorkerConfig], Outcome]:
    module, _, name = spec.partition(":")
    fn = getattr(importlib.import_module(module), name)
    if not callable(fn):
        raise TypeError(f"{spec} is not callable")
    return fn  # type: ignore[no-any-return]


def worker_main(conn: Connection, config: WorkerConfig) -> None:
    """The child's loop: (task id, bytes, filename) in, (task id, Outcome) out, until told to stop."""
    os.setpgrp()  # our own group: a kill reaches the OCR processes this worker starts, too
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _exit_with_parent()
    if config.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (config.memory_bytes, config.memory_bytes))
    processor = load_processor(config.processor)
    import gongkai.pipeline.extract  # noqa: F401 - warm up before saying ready: timeouts time documents

    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task_id, data, filename = msg
        try:
            outcome = processor(data, filename, config)
        except MemoryError:
            outcome = Outcome(False, "unknown", error_code="memory_limit", error="out of memory (memory cap)")
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
            outcome = Outcome(
                False,
                "unknown",
                error_code="internal_error",
                error=f"{type(exc).__name__}: {exc}{where}"[:500],
            )
        try:
            conn.send((task_id, outcome))
        except (BrokenPipeError, OSError):
            return


def _exit_with_parent() -> None:
    """A worker outlives a killed parent only until it notices (a hung document would keep it forever)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="gongkai-parent-watch", daemon=True).start()
