"""A stand-in for the pipeline in the batch machinery tests: fast, and faulty on request.

The bytes say what to do: ``HANG`` sleeps for an hour, ``CRASH`` kills the worker with SIGSEGV,
``BOMB`` allocates far past the memory cap, ``SLOW`` takes 0.4 s, ``FLAKY`` fails while the
environment variable ``BATCH_TEST_FLAKY`` is set. Otherwise the result is a small valid result
(agency and year read from ``agency=…;year=…`` in the bytes). Every finished call appends the
sha256 to the file named by ``BATCH_TEST_LOG``, so a test can count how often a document ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import time

from gongkai.batch.worker import Outcome, WorkerConfig

PROCESSOR = "tests.batch.fake:process"


def process(data: bytes, filename: str, config: WorkerConfig) -> Outcome:
    if b"HANG" in data:
        time.sleep(3600)
    if b"CRASH" in data:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"BOMB" in data:
        hoard = bytearray(64 * 1024**3)  # far past any cap the tests set
        hoard[-1] = 1
    if b"SLOW" in data:
        time.sleep(0.4)
    sha = hashlib.sha256(data).hexdigest()
    if b"FLAKY" in data and os.environ.get("BATCH_TEST_FLAKY"):
        _log(sha)
        return Outcome(False, "text", error_code="flaky", error="failed on purpose")
    _log(sha)
    return Outcome(True, "text", result_json=json.dumps(fake_result(data, filename)), pages=1, seconds=0.01)


def fake_result(data: bytes, filename: str) -> dict[str, object]:
    text = data.decode("utf-8", "replace")
    agency = m.group(1) if (m := re.search(r"agency=([^;\s]+)", text)) else None
    year = int(m.group(1)) if (m := re.search(r"year=(\d{4})", text)) else None
    return {
        "contract_version": "1.1",
        "source": {
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "media_type": "text/plain",
            "pages": 1,
        },
        "format": "2021",
        "metadata": {"title": None, "agency": agency, "region": None, "year": year},
        "pages": [{"number": 1, "text_source": "text"}],
        "cells": {},
        "sections": [],
        "facts": [],
        "checks": [],
        "warnings": [],
    }


def _log(sha: str) -> None:
    path = os.environ.get("BATCH_TEST_LOG")
    if path:
        with open(path, "a", encoding="ascii") as fh:
            fh.write(sha + "\n")
