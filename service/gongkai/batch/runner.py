"""One batch run: walk the sources, hand new content to workers, record each outcome, write the dataset."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gongkai.batch import dataset
from gongkai.batch.manifest import Manifest
from gongkai.batch.pool import WorkerPool
from gongkai.batch.progress import QuietReporter, Reporter
from gongkai.batch.remote import RemotePool
from gongkai.batch.sources import SEP, Entry, WalkLimits, count, walk
from gongkai.batch.summary import write_summary
from gongkai.batch.worker import Outcome, WorkerConfig
from gongkai.errors import InputError
from gongkai.settings import PipelineOptions

SCRATCH_DIR = "tmp"
Pool = WorkerPool | RemotePool


@dataclass
class BatchConfig:
    sources: list[str]
    out_dir: Path
    workers: int = 1
    timeout: float = 600.0  # seconds per document, conversion and OCR included
    memory_mb: int | None = 4096  # address-space cap of each worker process
    retry_failed: bool = False
    options: PipelineOptions = field(default_factory=PipelineOptions)
    max_depth: int = 4
    convert_timeout: float = 120.0
    count_first: bool = True  # list the sources once up front, for the bar's total and the ETA
    processor: str = "gongkai.batch.worker:process_document"
    argv: list[str] = field(default_factory=lambda: list(sys.argv))
    # Scale-out: a Redis URL sends each document to the Celery workers of `gongkai worker`; then
    # ``workers`` is the number of documents in flight at once.
    broker_url: str | None = None
    report_timeout: float | None = None  # re-send a document not reported back in this long


@dataclass
class _Run:
    cfg: BatchConfig
    manifest: Manifest
    reporter: Reporter
    counts: Counter[str] = field(default_factory=Counter)
    paths: dict[str, str] = field(default_factory=dict)  # sha256 in flight -> its file


def run_batch(cfg: BatchConfig, reporter: Reporter | None = None) -> dict[str, int]:
    """Process everything under ``cfg.sources`` not done before; returns this run's counts by outcome."""
    out = cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / dataset.RESULTS_DIR).mkdir(exist_ok=True)
    reporter = reporter or QuietReporter()
    with _exclusive(out):
        scratch = out / SCRATCH_DIR
        shutil.rmtree(scratch, ignore_errors=True)  # profiles and spools of a killed run
        scratch.mkdir()
        manifest = Manifest(out)
        run = _Run(cfg, manifest, reporter)
        try:
            run_id = manifest.start_run(cfg.argv)
            worker_config = WorkerConfig(
                options=cfg.options.sharing_cores(cfg.workers),
                memory_bytes=cfg.memory_mb * 1024 * 1024 if cfg.memory_mb else None,
                convert_timeout=min(cfg.convert_timeout, cfg.timeout),
                scratch_dir=scratch,
                processor=cfg.processor,
            )
            pool = _make_pool(cfg, manifest, worker_config)
            try:
                resumed, adopted = _recover(manifest, out, pool)
                reporter.start(count(cfg.sources) if cfg.count_first else None, resumed)
                _collect(run, adopted)
                _process(run, pool)
            finally:
                pool.close()
            manifest.finish_run(run_id)
        finally:
            # Also after Ctrl-C: the dataset shows what is done so far.
            try:
                ds = dataset.build(out, manifest)
                write_summary(out / "summary.html", ds)
            finally:
                manifest.close()
                shutil.rmtree(scratch, ignore_errors=True)
        reporter.finish(dict(run.counts), str(out))
    return dict(run.counts)


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One run per output folder: two would both take the same queued documents."""
    with (out / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"another gongkai batch is writing to {out}") from None
        yield


def _make_pool(cfg: BatchConfig, manifest: Manifest, worker_config: WorkerConfig) -> Pool:
    if not cfg.broker_url:
        return WorkerPool(cfg.workers, worker_config, cfg.timeout)
    return RemotePool(
        cfg.broker_url,
        manifest.batch_id(),
        cfg.workers,
        worker_config,
        cfg.timeout,
        cfg.report_timeout or cfg.timeout + 120.0,  # the document's time, plus a wait in the queue
        on_resend=manifest.mark_running,  # one more attempt and a `start` event per send
    )


def _recover(manifest: Manifest, out: Path, pool: Pool) -> tuple[int, list[tuple[str, Outcome]]]:
    """Documents a killed run left ``running``: done if their result file was written; with a broker,
    the outcomes workers reported since are taken; the rest is queued again. Returns the number
    queued again and the outcomes taken (for ``_collect``)."""
    left = []
    for sha in manifest.running():
        result = dataset.load_result(out, sha)
        if result is not None and (result.get("source") or {}).get("sha256") == sha:
            manifest.mark_done(sha, dataset.result_fields(result), detail="result written before the stop")
        else:
            left.append(sha)
    adopted: list[tuple[str, Outcome]] = []
    if isinstance(pool, RemotePool):
        adopted, left = pool.adopt(left)
    for sha in left:
        manifest.requeue(sha)
    return len(left), adopted


def _process(run: _Run, pool: Pool) -> None:
    cfg, manifest = run.cfg, run.manifest
    seen: set[str] = set()
    limits = WalkLimits(max_bytes=cfg.options.max_bytes, max_depth=cfg.max_depth)
    for entry in walk(cfg.sources, limits):
        _collect(run, pool.poll(0))
        if entry.data is None:
            manifest.record_file(entry.path, None, entry.size, entry.mtime, entry.error_code, entry.error)
            _report(run, entry.path, "failed", {"error_code": entry.error_code, "error": entry.error})
            continue
        sha = hashlib.sha256(entry.data).hexdigest()
        manifest.record_file(entry.path, sha, entry.size, entry.mtime)
        if sha in seen:
            _report(run, entry.path, "duplicate", {"sha256": sha})
            continue
        seen.add(sha)
        if not _needs_processing(run, entry, sha):
            continue
        while not pool.has_idle():
            _collect(run, pool.poll(0.5))
        manifest.mark_running(sha)
        run.paths[sha] = entry.path
        pool.submit(sha, entry.data, entry.path.rsplit(SEP, 1)[-1])
    while pool.busy():
        _collect(run, pool.poll(0.5))


def _needs_processing(run: _Run, entry: Entry, sha: str) -> bool:
    manifest = run.manifest
    row = manifest.get(sha)
    if row is None:
        manifest.add(sha, entry.path, entry.size, entry.mtime)
        return True
    if row.status == "done" and dataset.result_path(run.cfg.out_dir, sha).is_file():
        _report(run, entry.path, "skipped" if row.path == entry.path else "duplicate", {"sha256": sha})
        return False
    if row.status == "failed" and not run.cfg.retry_failed:
        _report(run, entry.path, "skipped", {"sha256": sha, "error_code": row.error_code})
        return False
    return True  # queued (interrupted before), failed with --retry-failed, or done but its file lost


def _collect(run: _Run, finished: list[tuple[str, Outcome]]) -> None:
    for sha, outcome in finished:
        path = run.paths.pop(sha, None)
        row = run.manifest.get(sha)
        if row is None or row.status != "running":
            continue  # not this run's to finish: a document completes once
        path = path or row.path
        info: dict[str, Any] = {"sha256": sha, "kind": outcome.kind, "seconds": round(outcome.seconds, 3)}
        if outcome.ok and outcome.result_json is not None:
            result = json.loads(outcome.result_json)
            # The file first, then the manifest: a kill between the two is recovered as done.
            text = outcome.result_json if outcome.result_json.endswith("\n") else outcome.result_json + "\n"
            dataset.write_atomic(dataset.result_path(run.cfg.out_dir, sha), text.encode("utf-8"))
            fields = dataset.result_fields(result)
            run.manifest.mark_done(sha, {**fields, "kind": outcome.kind, "seconds": outcome.seconds})
            info.update(pages=fields["pages"], year=fields["year"], agency=fields["agency"])
            _report(run, path, "done", info)
        else:
            fields = {"error_code": outcome.error_code, "error": outcome.error, "seconds": outcome.seconds}
            if outcome.kind != "unknown":  # a killed worker could not say what the file was
                fields["kind"] = outcome.kind
            run.manifest.mark_failed(sha, fields)
            info.update(error_code=outcome.error_code, error=outcome.error)
            _report(run, path, "failed", info)


def _report(run: _Run, path: str, outcome: str, info: dict[str, Any]) -> None:
    run.counts[outcome] += 1
    run.reporter.document(path, outcome, info)
