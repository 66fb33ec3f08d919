"""Memory benchmark (issue 15): the peak of a process reading scans, and what an idle service holds.

1. ``gongkai extract SCAN --format json`` (a 3-page report scanned at 200 dpi, as in bench_cold):
   the command's peak RSS (it reads the pages on threads of one process).
2. ``gongkai serve`` with 2 local worker processes (SQLite, a temp directory, a free port): RSS and
   PSS (shared library pages split between the processes that map them) of the server and its
   workers, summed — at start, right after both workers have read a scan (each its own, at the same
   time), and once the idle workers have recycled themselves (``--recycle`` seconds, the setting
   ``GONGKAI_RECYCLE_IDLE_SECONDS``; 120 by default in the service). Each worker's peak (VmHWM) is
   the peak memory of an OCR worker.

    .venv/bin/python -m benchmarks.bench_memory [--recycle 20]

Prints a table; results go to BENCHMARKS.md. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.bench_cold import scanned_pdf, status_mb
from benchmarks.bench_faults import free_port
from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database


def _pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(p) for p in text]
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        with contextlib.suppress(OSError):  # it ended meanwhile
            todo += _children(p)
    return seen


def _workers(server: int) -> list[int]:
    """The local worker processes: children of the server running Python (not the resource tracker)."""
    found = []
    for p in _children(server):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd:
            found.append(p)
    return found


def snapshot(server: int) -> dict[str, float]:
    procs = _tree(server)
    rss = pss = 0.0
    for p in procs:
        try:
            pss += _pss_mb(p)
        except OSError:  # it ended meanwhile
            continue
        rss += status_mb(p, "VmRSS") or 0.0
    return {"processes": len(procs), "rss": rss, "pss": pss}


def cli_peak(scan: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "gongkai.cli", "extract", str(scan), "--format", "json", "-o", os.devnull],
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        print("note: an earlier child had a higher peak; the CLI figure is a lower bound")
    return after / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recycle", type=float, default=20.0, help="GONGKAI_RECYCLE_IDLE_SECONDS for the run")
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gongkai-memory-"))
    scans = []
    for seed in (7, 8):  # two different scans: the same bytes would be one document
        (root / f"s{seed}").mkdir()
        scans.append(scanned_pdf(root / f"s{seed}", seed))
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    print()
    if not args.skip_cli:
        peak = cli_peak(scans[0])
        print(f"`gongkai extract` of a 3-page scan (page threads, one process): peak RSS {peak:.0f} MB")
        print()

    db_url = f"sqlite:///{root / 'g.db'}"
    db = Database(db_url)
    migrate.upgrade(db)
    with db.session() as s:
        key = repo.create_key(s, "uploader", "bench")[1]
    db.dispose()
    port = free_port()
    env = dict(
        os.environ,
        GONGKAI_DATABASE_URL=db_url,
        GONGKAI_DATA_DIR=str(root / "data"),
        GONGKAI_RECYCLE_IDLE_SECONDS=str(int(args.recycle)),
    )
    cmd = [sys.executable, "-m", "gongkai.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen([*cmd, "--log-level", "warning"], env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gongkai serve did not become healthy")
            time.sleep(0.2)
        time.sleep(2)
        rows.append(("started, idle", snapshot(server.pid)))
        headers = {"X-API-Key": key}
        ids = []
        for scan in scans:
            with scan.open("rb") as f:
                r = httpx.post(f"{base}/v1/documents", files={"file": (scan.name, f)}, headers=headers)
            r.raise_for_status()
            ids.append(r.json()["id"])
        for doc_id in ids:
            url = f"{base}/v1/documents/{doc_id}"
            while (status := httpx.get(url, headers=headers).json()["status"]) not in ("done", "failed"):
                time.sleep(0.5)
            if status != "done":
                raise RuntimeError(f"document {doc_id} {status}")
        workers = _workers(server.pid)
        peaks = [status_mb(p, "VmHWM") or 0.0 for p in workers]
        time.sleep(1)
        rows.append(("after 2 scans at once, idle", snapshot(server.pid)))
        time.sleep(args.recycle + 5)
        rows.append((f"idle {args.recycle + 5:.0f} s later (workers recycled)", snapshot(server.pid)))
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
    print("`gongkai serve` with 2 local worker processes (server + workers summed):")
    print()
    print("| moment | processes | RSS MB | PSS MB |")
    print("|---|---:|---:|---:|")
    for label, snap in rows:
        print(f"| {label} | {snap['processes']:.0f} | {snap['rss']:.0f} | {snap['pss']:.0f} |")
    print()
    print("Peak RSS of each worker that read a scan: " + ", ".join(f"{p:.0f} MB" for p in peaks))
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
