"""Fault benchmark of the service: kill -9 a local worker mid-job, kill -9 the server and restart it,
kill -9 a Celery worker mid-job.

Usage: python benchmarks/bench_faults.py [--docs 4] [--workers 2] [--lease 10] [--timeout 300] [--redis URL]

Starts `gongkai serve` (SQLite + a local pool of --workers processes) in a temp directory on a free
127.0.0.1 port, then for each fault uploads --docs small synthetic PDFs (distinct sha256), injects the
fault while a job is running, and waits (at most --timeout seconds) until every accepted upload is settled.
A job is lost if its upload was accepted (202) but its document is missing, failed or not done in time:
there must be none. Time to recover: from the fault to the interrupted job's document being done.
The server's lease is --lease seconds, the longest a job of a killed server can wait to be taken again.
The Celery fault (skipped when --redis is not reachable) restarts the server with --workers 0 and a
broker on --redis (a database number of its own, flushed first), runs one `gongkai worker`, kills its
whole process group (parent and prefork child) with SIGKILL while it runs a job and starts a new one;
the API's sweeper re-sends the job once its lease has run out.
Prints a Markdown table. Every loop is bounded; numbers on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf  # noqa: E402
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec  # noqa: E402
from gongkai.server.storage import migrate  # noqa: E402
from gongkai.server.storage import repository as repo  # noqa: E402
from gongkai.server.storage.db import Database  # noqa: E402
from gongkai.server.storage.models import DocumentRow, JobRow  # noqa: E402
from gongkai.settings import Settings  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_pdfs(n: int) -> list[bytes]:
    agencies = ["甲市乙区人民政府", "丙县人民政府", "己县教育局"]
    out = []
    for i in range(n):
        spec = blank_spec("2021", 2021 + i % 3, agencies[i % len(agencies)], value="0")
        spec = spec.with_cell("requests.new.natural_person", str(3 + i)).with_cell(
            "requests.new.total", str(3 + i)
        )
        out.append(render_pdf(spec, RenderOptions(page_header=spec.title)))
    return out


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="gongkai-faults-"))
        self.settings = Settings(database_url=f"sqlite:///{self.root / 'g.db'}", data_dir=self.root / "data")
        self.db = Database(self.settings.database_url)
        migrate.upgrade(self.db)
        with self.db.session() as s:
            self.key = repo.create_key(s, "uploader", "bench")[1]
        self.bases = base_pdfs(3)
        self.serial = 0
        self.server: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.broker: str | None = None  # set for the Celery fault: the server dispatches to it
        self.worker: subprocess.Popen[bytes] | None = None

    # --- the server -----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(
            os.environ,
            GONGKAI_DATABASE_URL=self.settings.database_url,
            GONGKAI_DATA_DIR=str(self.settings.data_dir),
            GONGKAI_POOL="process",
            GONGKAI_LEASE_SECONDS=str(self.args.lease),
        )
        if self.broker:
            env["GONGKAI_BROKER_URL"] = self.broker
        return env

    def start(self) -> None:
        env = self.env()
        cmd = [sys.executable, "-m", "gongkai.cli", "serve", "--port", str(self.port)]
        workers = 0 if self.broker else self.args.workers  # with a broker the jobs go to Celery workers
        cmd += ["--workers", str(workers), "--log-level", "warning"]
        self.server = subprocess.Popen(cmd, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.server.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("gongkai serve did not become healthy")

    def kill_server(self, sig: int = signal.SIGKILL) -> None:
        if self.server is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, sig)  # the server, its workers and their OCR processes
        try:
            self.server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(10)
        self.server = None

    def start_celery_worker(self) -> None:
        cmd = [sys.executable, "-m", "gongkai.cli", "worker", "--concurrency", "1", "--loglevel", "WARNING"]
        # Its own process group, so that kill -9 takes the prefork child running the job too.
        self.worker = subprocess.Popen(cmd, env=self.env(), start_new_session=True)

    def kill_celery_worker(self, sig: int = signal.SIGKILL) -> None:
        if self.worker is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, sig)
        try:
            self.worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(10)
        self.worker = None

    # --- jobs -----------------------------------------------------------------------------------

    def upload(self, n: int) -> tuple[list[str], int]:
        ids, errors = [], 0
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", headers={"X-API-Key": self.key}) as c:
            for _ in range(n):
                self.serial += 1
                data = (
                    self.bases[self.serial % len(self.bases)] + f"\n%gongkai-faults {self.serial}\n".encode()
                )
                try:
                    r = c.post("/v1/documents", files={"file": (f"r{self.serial}.pdf", data)}, timeout=60)
                except httpx.HTTPError:
                    errors += 1
                    continue
                if r.status_code == 202:
                    ids.append(r.json()["id"])
                else:
                    errors += 1
        return ids, errors

    def running_job(self, timeout: float, kind: str = "local") -> tuple[str, int] | None:
        """(document id, worker pid) of a job a worker of this kind (local, celery) runs, once one does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as s:
                for job in s.query(JobRow).filter(JobRow.status == "running"):
                    owner = (job.lease_owner or "").split(":")
                    if len(owner) == 4 and owner[0] == kind:
                        return job.document_id, int(owner[2])
            time.sleep(0.02)
        return None

    def statuses(self, ids: list[str]) -> dict[str, str]:
        with self.db.session() as s:
            rows = s.query(DocumentRow.id, DocumentRow.status).filter(DocumentRow.id.in_(ids)).all()
        return {r[0]: r[1] for r in rows}

    def settle(self, ids: list[str], watch: str | None, t_fault: float) -> tuple[int, float | None]:
        """Wait for every id to settle; returns (lost, seconds from the fault until ``watch`` was done)."""
        deadline = time.monotonic() + self.args.timeout
        recovered: float | None = None
        st: dict[str, str] = {}
        while time.monotonic() < deadline:
            st = self.statuses(ids)
            if watch and recovered is None and st.get(watch) == "done":
                recovered = time.monotonic() - t_fault
            if len(st) == len(ids) and all(v in ("done", "failed") for v in st.values()):
                break
            time.sleep(0.2)
        lost = sum(1 for i in ids if st.get(i) != "done")
        return lost, recovered

    # --- faults ---------------------------------------------------------------------------------

    def scenario(
        self, name: str, fault: Callable[[int], None] | None, kind: str = "local"
    ) -> tuple[str, int, int, int, str]:
        ids, errors = self.upload(self.args.docs)
        t0 = time.monotonic()
        if fault is None:
            lost, _ = self.settle(ids, None, t0)
            return name, len(ids), errors, lost, f"— (all done in {time.monotonic() - t0:.1f} s)"
        hit = self.running_job(self.args.timeout, kind)
        if hit is None:
            lost, _ = self.settle(ids, None, t0)
            return name, len(ids), errors, lost, "fault not injected (no job caught running)"
        doc_id, pid = hit
        t_fault = time.monotonic()
        fault(pid)
        lost, recovered = self.settle(ids, doc_id, t_fault)
        return name, len(ids), errors, lost, "not recovered" if recovered is None else f"{recovered:.1f} s"


def redis_reachable(url: str) -> bool:
    from urllib.parse import urlparse

    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=4, help="uploads per fault")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--lease", type=int, default=10, help="GONGKAI_LEASE_SECONDS for the server")
    ap.add_argument("--timeout", type=float, default=300, help="give up waiting for a scenario after this")
    ap.add_argument(
        "--redis", default="redis://127.0.0.1:6379/13", help="broker for the Celery fault (its db is flushed)"
    )
    args = ap.parse_args()

    b = Bench(args)
    print(f"data in {b.root}", file=sys.stderr)

    def kill_worker(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def kill_server(_pid: int) -> None:
        b.kill_server(signal.SIGKILL)
        b.port = free_port()
        b.start()

    def kill_celery_worker(_pid: int) -> None:
        b.kill_celery_worker(signal.SIGKILL)  # the worker and its prefork child, as a lost machine
        b.start_celery_worker()

    rows = []
    celery_note = ""
    try:
        b.start()
        rows.append(b.scenario("none (baseline, incl. model warm-up)", None))
        rows.append(b.scenario("kill -9 a local worker mid-job", kill_worker))
        rows.append(b.scenario("kill -9 the server (and its workers) mid-job, restart", kill_server))
        if redis_reachable(args.redis):
            import redis

            redis.Redis.from_url(args.redis).flushdb()
            b.kill_server(signal.SIGTERM)
            b.broker, b.port = args.redis, free_port()
            b.start()
            b.start_celery_worker()
            rows.append(b.scenario("Celery: none (baseline, incl. worker warm-up)", None, "celery"))
            rows.append(b.scenario("Celery worker kill -9 mid-job", kill_celery_worker, "celery"))
            celery_note = (
                f"; Celery rows: API with --workers 0, one `gongkai worker --concurrency 1` on {args.redis}"
            )
        else:
            print(f"Redis at {args.redis} is not reachable: Celery fault skipped", file=sys.stderr)
    finally:
        b.kill_server(signal.SIGTERM)
        b.kill_celery_worker(signal.SIGTERM)
        b.db.dispose()

    print(f"\n{args.workers} local worker processes, lease {args.lease} s, SQLite{celery_note}\n")
    print("| fault | jobs submitted | upload errors | jobs lost | time to recover |")
    print("|---|---:|---:|---:|---|")
    for name, submitted, errors, lost, recover in rows:
        print(f"| {name} | {submitted} | {errors} | {lost} | {recover} |")
    return 1 if any(r[3] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
