"""`gongkai batch` at scale: throughput, memory over time, and kill -9 / rerun with nothing lost or doubled.

Usage: python benchmarks/bench_batch.py [--n 1000] [--workers 2] [--keep DIR] [--broker redis://…/14]

The archive: ``gongkai corpus generate --n N`` (every kind and format it makes: born-digital PDF,
scanned PDF, page images, HTML, DOCX; 2021, 2019 and legacy), the real reports of
``../shared/corpus/real/`` when present, then 5 % byte-identical duplicates, re-issues (same agency
and year, corrected bytes), corrupt and truncated files, an encrypted PDF, a zip bomb, a document
that hangs (this module's processor sleeps on a marker, standing in for a converter that never
returns) and non-reports (notices, a spreadsheet, random bytes). Half of it is zipped.

Runs, each a real ``gongkai batch`` subprocess with ``--json-progress``:

1. the whole archive with local workers, sampling the RSS of the batch process tree every second
   (printed against documents done: flat means no growth with the number of documents);
2. optionally the same with ``--broker`` and two ``gongkai worker`` Celery processes;
3. a fresh output folder, killed with SIGKILL (the whole process group) at a random point, then run
   again to the end: documents lost (a distinct content without a final outcome) and documents
   processed twice (more than one ``done``/``failed`` event in the manifest) must both be 0.

OCR is off (``--no-ocr``) so that a run finishes on a shared 2-core machine: scans end as
``needs_ocr``; the OCR throughput is in the OCR section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from contextlib import closing
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "corpus" / "real"
HANG_MARKER = b"%GONGKAI-BENCH-HANG"
PROCESSOR = "benchmarks.bench_batch:process"
NOT_REPORTS = [
    "关于召开全区安全生产工作会议的通知\n定于下周一上午九时召开会议，请准时参加。\n",
    "某县2023年度财政预算执行情况说明\n一、收入情况\n全县一般公共预算收入12345万元。\n",
]


def process(data: bytes, filename: str, config: Any) -> Any:
    """The real per-document function, except that the marker document never returns."""
    from gongkai.batch.worker import process_document

    if data.startswith(HANG_MARKER):
        time.sleep(3600)
    return process_document(data, filename, config)


# --- the archive ------------------------------------------------------------------------------------


def _encrypted_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.drawString(72, 720, "encrypted")
    c.showPage()
    c.save()
    return buf.getvalue()


def _zip_bomb() -> bytes:
    # 1 GiB of zeros deflates to about 1 MiB: far past --max-bytes, so the walk must not inflate it.
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bomb/report.pdf", "w") as fh:
        block = bytes(16 * 1024 * 1024)
        for _ in range(64):
            fh.write(block)
    return buf.getvalue()


def _reissue(name: str, data: bytes) -> bytes | None:
    """A corrected re-issue: same agency and year, different bytes (HTML: a note in the page)."""
    if name.endswith(".html"):
        text = data.decode("utf-8", "replace")
        return text.replace("</body>", "<p>（本报告为更正版）</p></body>").encode("utf-8")
    return None


def build_archive(root: Path, n: int, workers: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    gen = root / "generated"
    if not (gen / "manifest.json").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "gongkai.cli",
                "corpus",
                "generate",
                str(gen),
                "--n",
                str(n),
                "--workers",
                str(workers),
                "--dpi",
                "100",
                "--seed",
                str(seed),
            ],
            check=True,
            cwd=REPO,
        )
    files: list[tuple[str, bytes]] = []
    for p in sorted(gen.iterdir()):
        if p.suffix != ".json" and p.is_file():
            files.append((f"generated/{p.name}", p.read_bytes()))
    if REAL.is_dir():
        files += [(f"real/{p.name}", p.read_bytes()) for p in sorted(REAL.iterdir()) if p.suffix != ".md"]
    made: Counter[str] = Counter(generated_and_real=len(files))
    originals = list(files)
    for name, data in rng.sample(originals, max(1, len(originals) // 20)):
        files.append((f"dup/{Path(name).name}", data))
        made["exact_duplicates"] += 1
    for name, data in originals:
        if made["reissues"] >= 10:
            break
        if (again := _reissue(name, data)) is not None:
            files.append((f"reissue/{Path(name).name}", again))
            made["reissues"] += 1
    for name, data in rng.sample(originals, 10):
        cut = data[: max(1, len(data) // 3)]
        files.append((f"broken/truncated-{Path(name).name}", cut))
        noise = bytearray(data)
        for _ in range(200):
            noise[rng.randrange(len(noise))] = rng.randrange(256)
        files.append((f"broken/corrupt-{Path(name).name}", bytes(noise[: len(noise) // 2] + b"\x00" * 64)))
        made["truncated"] += 1
        made["corrupt"] += 1
    files.append(("odd/encrypted.pdf", _encrypted_pdf()))
    files.append(("odd/bomb.zip", _zip_bomb()))
    files.append(("odd/hangs.pdf", HANG_MARKER + b"\n" + os.urandom(64).hex().encode()))
    for i, text in enumerate(NOT_REPORTS):
        files.append((f"odd/notice-{i}.txt", text.encode("gb18030")))
    files.append(("odd/random.bin", os.urandom(4096)))
    made.update(encrypted=1, zip_bomb=1, hangs=1, not_reports=len(NOT_REPORTS) + 1)
    rng.shuffle(files)
    half = len(files) // 2
    src = root / "archive"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    with zipfile.ZipFile(src / "part.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files[:half]:
            zf.writestr(name, data)
    for name, data in files[half:]:
        path = src / "folder" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    made["files"] = len(files)
    return dict(made)


# --- one run --------------------------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _batch_rss(pid: int) -> int:
    import psutil

    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


class Run:
    """A ``gongkai batch`` subprocess, its JSON progress and a memory sample every second."""

    def __init__(self, src: Path, out: Path, workers: int, broker: str | None = None) -> None:
        cmd = [sys.executable, "-m", "gongkai.cli", "batch", str(src), "--out", str(out)]
        cmd += ["--workers", str(workers), "--timeout", "30", "--no-ocr", "--json-progress"]
        if broker:  # Celery workers run the pipeline itself: there the marker file is just not a PDF
            cmd += ["--broker", broker, "--report-timeout", "90"]
        else:
            cmd += ["--processor", PROCESSOR]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        self.events: Counter[str] = Counter()
        self.pages = 0
        self.done_docs = 0
        self.samples: list[tuple[float, int, int, int]] = []  # seconds, documents, batch RSS, tree RSS
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("event") == "document":
                self.events[msg.get("outcome", "?")] += 1
                if msg.get("outcome") in ("done", "failed"):
                    self.done_docs += 1
                self.pages += int(msg.get("pages") or 0)

    def _sample(self) -> None:
        while self.proc.poll() is None:
            batch, tree = _batch_rss(self.proc.pid), _tree_rss(self.proc.pid)
            if batch:  # 0: the process has just exited
                self.samples.append((time.perf_counter() - self.start, self.done_docs, batch, tree))
            time.sleep(1.0)

    def wait(self) -> float:
        self.proc.wait()
        self._reader.join(5)
        return time.perf_counter() - self.start

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _manifest_stats(out: Path) -> tuple[int, int, int, Counter[str]]:
    """distinct contents, contents without a final outcome, contents finished more than once, statuses."""
    with closing(sqlite3.connect(out / "manifest.sqlite")) as db:
        statuses = Counter(r[0] for r in db.execute("SELECT status FROM documents"))
        distinct = sum(statuses.values())
        lost = statuses["queued"] + statuses["running"]
        twice = db.execute(
            "SELECT COUNT(*) FROM (SELECT sha256 FROM events WHERE event IN ('done', 'failed') "
            "GROUP BY sha256 HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    return distinct, lost, int(twice), statuses


def _rss_table(samples: list[tuple[float, int, int, int]], rows: int = 8) -> list[str]:
    if not samples:
        return []
    step = max(1, len(samples) // rows)
    picked = [*samples[::step][:rows], samples[-1]]
    out = ["| s | documents done | batch RSS MiB | batch + workers RSS MiB |", "|---:|---:|---:|---:|"]
    out += [f"| {t:.0f} | {d} | {b / 2**20:.0f} | {a / 2**20:.0f} |" for t, d, b, a in picked]
    return out


def _start_celery_workers(broker: str, base: Path, n: int) -> list[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        GONGKAI_BROKER_URL=broker,
        GONGKAI_DATABASE_URL=f"sqlite:///{base / 'worker.db'}",
        GONGKAI_DATA_DIR=str(base / "worker-data"),
    )
    return [
        subprocess.Popen(
            [sys.executable, "-m", "gongkai.cli", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
            cwd=REPO,
            env=env,
            start_new_session=True,
        )
        for _ in range(n)
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the archive and the datasets in this folder")
    ap.add_argument("--broker", help="also run through Celery workers on this Redis URL (its db is flushed)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="gongkai-bench-batch-"))
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    made = build_archive(base, args.n, args.workers, args.seed)
    built = time.perf_counter() - t0
    src = base / "archive"
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work), "
        f"Python {sys.version.split()[0]}",
        f"archive: {json.dumps(made)} built in {built:.0f} s",
        "",
        "| run | files | outcomes | wall s | documents/min | pages/s |",
        "|---|---:|---|---:|---:|---:|",
    ]
    results: dict[str, Run] = {}
    out = base / "out-local"
    shutil.rmtree(out, ignore_errors=True)
    run = Run(src, out, args.workers)
    wall = run.wait()
    results["local"] = run
    distinct = _manifest_stats(out)[0]
    lines.append(
        f"| local, {args.workers} workers | {made['files']} | {dict(run.events)} | {wall:.0f} "
        f"| {distinct / wall * 60:.0f} | {run.pages / wall:.1f} |"
    )
    if args.broker:
        import redis

        redis.Redis.from_url(args.broker).flushdb()
        workers = _start_celery_workers(args.broker, base, args.workers)
        try:
            out_c = base / "out-celery"
            shutil.rmtree(out_c, ignore_errors=True)
            run_c = Run(src, out_c, args.workers, broker=args.broker)
            wall_c = run_c.wait()
            results["celery"] = run_c
            lines.append(
                f"| Celery, {args.workers} `gongkai worker` | {made['files']} | {dict(run_c.events)} "
                f"| {wall_c:.0f} | {_manifest_stats(out_c)[0] / wall_c * 60:.0f} "
                f"| {run_c.pages / wall_c:.1f} |"
            )
        finally:
            for w in workers:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
    # Kill -9 at a random point, then run again to the end.
    out_k = base / "out-kill"
    shutil.rmtree(out_k, ignore_errors=True)
    kill_at = random.Random(args.seed).randint(distinct // 10, distinct * 6 // 10)
    victim = Run(src, out_k, args.workers)
    while victim.done_docs < kill_at and victim.proc.poll() is None:
        time.sleep(0.05)
    victim.kill9()
    before = _manifest_stats(out_k)
    rerun = Run(src, out_k, args.workers)
    rerun.wait()
    after_distinct, lost, twice, statuses = _manifest_stats(out_k)
    lines += [
        "",
        f"kill -9 of the batch (process group) after {victim.done_docs} documents "
        f"({before[3]['done'] + before[3]['failed']} final in the manifest, {before[3]['running']} running); "
        f"rerun: {dict(rerun.events)}",
        f"after the rerun: {after_distinct} distinct contents (uninterrupted run: {distinct}), "
        f"statuses {dict(statuses)}; **documents lost: {lost + max(0, distinct - after_distinct)}**, "
        f"**documents processed twice: {twice}**",
        "",
        "memory of the uninterrupted local run (sampled every second):",
        "",
        *_rss_table(results["local"].samples),
    ]
    print("\n".join(lines))
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if lost == 0 and twice == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
