"""The batch machinery with a fake pipeline (tests/batch/fake.py): faults, resume, kill -9, duplicates."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from gongkai.batch.manifest import MANIFEST_NAME
from tests.batch.fake import PROCESSOR
from tests.batch.helpers import done_so_far, manifest_events, run, zip_bytes

REPO = Path(__file__).resolve().parents[2]


def _docs(csv_path: Path) -> dict[str, dict[str, str]]:
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        return {
            Path(r["file"]).name if "!" not in r["file"] else r["file"].split("!", 1)[1]: r
            for r in csv.DictReader(fh)
        }


def _log_counts(log: Path) -> Counter[str]:
    return Counter(log.read_text(encoding="ascii").split()) if log.exists() else Counter()


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "completions.log"
    monkeypatch.setenv("BATCH_TEST_LOG", str(path))
    return path


def test_a_hang_a_crash_and_a_memory_bomb_are_recorded_and_the_batch_goes_on(
    tmp_path: Path, log: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name, body in [
        ("a-ok.txt", b"agency=A;year=2020 fine"),
        ("b-hang.txt", b"HANG"),
        ("c-crash.txt", b"CRASH"),
        ("d-bomb.txt", b"BOMB"),
        ("e-ok.txt", b"agency=A;year=2021 fine"),
    ]:
        (src / name).write_bytes(body)
    out = tmp_path / "out"
    counts = run([src], out, processor=PROCESSOR, timeout=4.0, memory_mb=1024)
    assert counts == {"done": 2, "failed": 3}
    docs = _docs(out / "documents.csv")
    assert docs["b-hang.txt"]["error_code"] == "timeout"
    assert "4 s" in docs["b-hang.txt"]["error"]
    assert docs["c-crash.txt"]["error_code"] == "crashed"
    assert "SIGSEGV" in docs["c-crash.txt"]["error"]
    assert docs["d-bomb.txt"]["error_code"] == "memory_limit"
    assert docs["a-ok.txt"]["status"] == docs["e-ok.txt"]["status"] == "done"
    with (out / "review.csv").open(encoding="utf-8-sig") as fh:
        review = {Path(r["file"]).name: r["reason"] for r in csv.DictReader(fh)}
    assert set(review) == {"b-hang.txt", "c-crash.txt", "d-bomb.txt"}


def test_rerun_skips_what_is_done_and_retry_failed_runs_failures_again(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.txt").write_bytes(b"agency=A;year=2020")
    (src / "flaky.txt").write_bytes(b"FLAKY agency=B;year=2020")
    out = tmp_path / "out"
    monkeypatch.setenv("BATCH_TEST_FLAKY", "1")
    assert run([src], out, processor=PROCESSOR) == {"done": 1, "failed": 1}
    assert run([src], out, processor=PROCESSOR) == {"skipped": 2}  # nothing runs again
    assert sum(_log_counts(log).values()) == 2
    monkeypatch.delenv("BATCH_TEST_FLAKY")
    assert run([src], out, processor=PROCESSOR, retry_failed=True) == {"skipped": 1, "done": 1}
    ran = _log_counts(log)
    docs = _docs(out / "documents.csv")
    assert ran[docs["ok.txt"]["sha256"]] == 1 and ran[docs["flaky.txt"]["sha256"]] == 2
    assert docs["flaky.txt"]["status"] == "done" and docs["flaky.txt"]["attempts"] == "2"
    assert docs["flaky.txt"]["error_code"] == ""  # the old failure does not stick to a success


def test_duplicates_are_processed_once_and_listed(tmp_path: Path, log: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    body = b"agency=A;year=2020 same bytes"
    (src / "a.txt").write_bytes(body)
    (src / "b-copy.bin").write_bytes(body)
    (src / "pack.zip").write_bytes(zip_bytes({"inner/c.txt": body}))
    out = tmp_path / "out"
    assert run([src], out, processor=PROCESSOR) == {"done": 1, "duplicate": 2}
    docs = _docs(out / "documents.csv")
    assert docs["a.txt"]["status"] == "done"
    for name in ("b-copy.bin", "inner/c.txt"):
        assert docs[name]["status"] == "duplicate"
        assert docs[name]["duplicate_of"] == str(src / "a.txt")
    assert sum(_log_counts(log).values()) == 1


def test_kill_9_mid_run_loses_nothing_and_completes_nothing_twice(tmp_path: Path, log: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    n = 10
    for i in range(n):
        (src / f"{i:02d}.txt").write_bytes(f"SLOW agency=A{i};year=2020".encode())
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "gongkai.cli", "batch", str(src), "--out", str(out), "--quiet"]
    cmd += ["--workers", "2", "--processor", PROCESSOR]
    # Its own session, so the kill takes the batch and its workers at once, like a power cut.
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while done_so_far(out) < 3:
            assert time.monotonic() < deadline, "the batch did not get going"
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = set(manifest_events(out, "done"))
    assert 3 <= len(done_before) < n
    mtimes = {sha: (out / "results" / f"{sha}.json").stat().st_mtime_ns for sha in done_before}
    # The moment between writing a result and recording it: one done document looks unfinished.
    adopted = sorted(done_before)[0]
    with sqlite3.connect(out / MANIFEST_NAME) as db:
        db.execute("UPDATE documents SET status = 'running' WHERE sha256 = ?", (adopted,))
        db.execute("DELETE FROM events WHERE sha256 = ? AND event = 'done'", (adopted,))
    # And one that was running without having written its result: it must run again, once.
    lost = sorted(done_before)[1]
    with sqlite3.connect(out / MANIFEST_NAME) as db:
        db.execute("UPDATE documents SET status = 'running' WHERE sha256 = ?", (lost,))
        db.execute("DELETE FROM events WHERE sha256 = ? AND event = 'done'", (lost,))
    (out / "results" / f"{lost}.json").unlink()
    done_before.discard(lost)
    ran_before = _log_counts(log)

    counts = run([src], out, processor=PROCESSOR)
    assert counts.get("failed", 0) == 0
    done = manifest_events(out, "done")
    assert len(done) == n and set(done.values()) == {1}  # every document completed exactly once
    ran_after = _log_counts(log)
    for sha in done_before:
        assert ran_after[sha] == ran_before[sha], "a finished document ran again"
        assert (out / "results" / f"{sha}.json").stat().st_mtime_ns == mtimes[sha]
    assert ran_after[lost] == ran_before[lost] + 1
    assert lost in manifest_events(out, "requeued")
    assert len(list((out / "results").glob("*.json"))) == n
    assert not list((out / "results").glob(".*.tmp"))
    with sqlite3.connect(out / MANIFEST_NAME) as db:
        statuses = Counter(r[0] for r in db.execute("SELECT status FROM documents"))
    assert statuses == {"done": n}


def test_a_second_run_on_the_same_folder_is_refused_while_one_runs(tmp_path: Path) -> None:
    import fcntl

    from gongkai.errors import InputError

    out = tmp_path / "out"
    out.mkdir()
    with (out / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(InputError, match="another gongkai batch"):
            run([tmp_path], out, processor=PROCESSOR)


def test_workers_that_cannot_start_stop_the_batch_with_the_reason(tmp_path: Path) -> None:
    from gongkai.batch.pool import WorkersFailedError

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(b"agency=A;year=2020")
    # 64 MiB of address space is too little to load the pipeline: every worker dies at start.
    with pytest.raises(WorkersFailedError, match="memory-mb"):
        run([tmp_path / "in"], tmp_path / "out", processor=PROCESSOR, memory_mb=64)


def test_a_relative_source_is_the_same_file_from_another_folder(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(b"agency=A;year=2020")
    monkeypatch.chdir(tmp_path)
    assert run(["in"], tmp_path / "out", processor=PROCESSOR) == {"done": 1}
    monkeypatch.chdir(tmp_path / "in")
    assert run([tmp_path / "in"], tmp_path / "out", processor=PROCESSOR) == {"skipped": 1}
