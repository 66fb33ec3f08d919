"""Load benchmark of the service: N uploads from this process to `gongkai serve` on loopback.

Usage: python benchmarks/bench_load.py [--uploads 200] [--workers 4] [--clients 8]

Starts `gongkai serve` (SQLite + a local pool of --workers processes) in a temp directory on a free
127.0.0.1 port, uploads --uploads distinct PDFs from --clients threads, polls until every job is
settled, and checks that no upload was lost (every 202 has a document, every document is done).
The PDFs are 20 rendered reports (different agencies, years and numbers); copies get a unique PDF
comment after %%EOF so that each upload is a new document (distinct sha256) the pipeline extracts.
Prints a Markdown table. Numbers on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf  # noqa: E402
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec  # noqa: E402
from gongkai.server.storage import migrate  # noqa: E402
from gongkai.server.storage import repository as repo  # noqa: E402
from gongkai.server.storage.db import Database  # noqa: E402
from gongkai.settings import Settings  # noqa: E402

AGENCIES = ["甲市乙区人民政府", "丙县人民政府", "丁市戊区人民政府办公室", "己县教育局", "庚市自然资源局"]


def base_pdfs(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        spec = blank_spec("2021", 2021 + i % 3, AGENCIES[i % len(AGENCIES)], value="0")
        new = 3 + i
        spec = spec.with_cell("requests.new.natural_person", str(new)).with_cell(
            "requests.new.total", str(new)
        )
        spec = spec.with_cell("requests.granted.natural_person", str(new)).with_cell(
            "requests.granted.total", str(new)
        )
        spec = spec.with_cell("requests.results_total.natural_person", str(new)).with_cell(
            "requests.results_total.total", str(new)
        )
        out.append(render_pdf(spec, RenderOptions(page_header=spec.title)))
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=1200, help="give up waiting for jobs after this")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="gongkai-bench-"))
    settings = Settings(database_url=f"sqlite:///{root / 'g.db'}", data_dir=root / "data")
    db = Database(settings.database_url)
    migrate.upgrade(db)
    with db.session() as s:
        key = repo.create_key(s, "uploader", "bench")[1]
    headers = {"X-API-Key": key}

    print(f"rendering 20 base reports into {root} …", file=sys.stderr)
    bases = base_pdfs(20)
    docs = [bases[i % len(bases)] + f"\n%gongkai-bench {i}\n".encode() for i in range(args.uploads + 8)]
    warmup, docs = docs[:8], docs[8:]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        GONGKAI_DATABASE_URL=settings.database_url,
        GONGKAI_DATA_DIR=str(settings.data_dir),
        GONGKAI_POOL="process",
    )
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gongkai.cli", "serve", "--port", str(port)),
            *("--workers", str(args.workers), "--log-level", "warning"),
        ],
        env=env,
        start_new_session=True,
    )
    try:
        client = httpx.Client(base_url=base, headers=headers, timeout=60)
        for _ in range(300):
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        upload_lat: list[float] = []
        status_lat: list[float] = []
        lock = threading.Lock()
        accepted: dict[str, float] = {}
        errors: list[str] = []

        def upload(i_data: tuple[int, bytes]) -> None:
            i, data = i_data
            t = time.perf_counter()
            try:
                r = client.post("/v1/documents", files={"file": (f"report-{i}.pdf", data)})
            except httpx.HTTPError as exc:
                with lock:
                    errors.append(f"upload {i}: {exc}")
                return
            dt = time.perf_counter() - t
            with lock:
                upload_lat.append(dt)
                if r.status_code == 202:
                    accepted[r.json()["id"]] = time.perf_counter()
                else:
                    errors.append(f"upload {i}: HTTP {r.status_code} {r.text[:200]}")

        def settle(ids: list[str], deadline: float) -> dict[str, tuple[str, float]]:
            done: dict[str, tuple[str, float]] = {}
            while len(done) < len(ids) and time.perf_counter() < deadline:
                for doc_id in ids:
                    if doc_id in done:
                        continue
                    t = time.perf_counter()
                    d = client.get(f"/v1/documents/{doc_id}").json()
                    status_lat.append(time.perf_counter() - t)
                    if d["status"] in ("done", "failed"):
                        done[doc_id] = (d["status"], time.perf_counter())
                time.sleep(0.2)
            return done

        # Warm-up: each worker process loads the pipeline's models once; not timed.
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(upload, enumerate(warmup)))
        settle(list(accepted), time.perf_counter() + args.timeout)
        accepted.clear()
        upload_lat.clear()
        status_lat.clear()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(upload, [(i + 8, d) for i, d in enumerate(docs)]))
        t_uploaded = time.perf_counter()
        settled = settle(list(accepted), t0 + args.timeout)
        t_end = time.perf_counter()
        client.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)

    with db.session() as s:
        rows, total = repo.list_documents(s, repo.DocumentFilter(), 10_000, 0)
    stored_ids = {r.id for r in rows}
    done = [k for k, (st, _) in settled.items() if st == "done"]
    failed = [k for k, (st, _) in settled.items() if st == "failed"]
    lost = [k for k in accepted if k not in stored_ids]
    job_lat = [settled[k][1] - accepted[k] for k in done]
    n = len(docs)
    wall = t_end - t0
    rows_out = [
        ("uploads sent / accepted (202)", f"{n} / {len(accepted)}"),
        ("upload errors", str(len(errors))),
        ("documents stored (incl. 8 warm-up)", str(total)),
        ("lost uploads (202 without a row)", str(len(lost))),
        ("jobs done / failed / unsettled", f"{len(done)} / {len(failed)} / {len(accepted) - len(settled)}"),
        ("upload phase", f"{t_uploaded - t0:.1f} s ({n / (t_uploaded - t0):.1f} uploads/s)"),
        ("end to end (first upload → last job done)", f"{wall:.1f} s ({len(done) / wall:.2f} documents/s)"),
        (
            "POST /v1/documents p50 / p95",
            f"{pct(upload_lat, 50) * 1000:.0f} / {pct(upload_lat, 95) * 1000:.0f} ms",
        ),
        (
            "GET /v1/documents/{id} p50 / p95",
            f"{pct(status_lat, 50) * 1000:.0f} / {pct(status_lat, 95) * 1000:.0f} ms",
        ),
        ("upload → done p50 / p95", f"{pct(job_lat, 50):.1f} / {pct(job_lat, 95):.1f} s"),
    ]
    print(
        f"\nLoad: {n} uploads, {args.clients} client threads, {args.workers} worker processes, SQLite (WAL), "
        f"loopback; {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print("| measure | value |\n|---|---|")
    for k, v in rows_out:
        print(f"| {k} | {v} |")
    if errors:
        print("\nerrors:", *errors[:10], sep="\n  ")
    if lost or errors or len(done) != n:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
