"""Speed as a user feels it (issue 15): whole `gongkai extract` commands, start-up included.

Usage: .venv/bin/python -m benchmarks.bench_cold [--reps 5] [--compare DIR] [--skip-scan] [--skip-warm]

- **Born-digital cold**: `gongkai extract report.pdf --format json` on a 5-page PDF (the real 洪泽区
  report when ../shared is present, else a rendered one), as a fresh process each time.
- **Scanned cold**: the same command on a 3-page report scanned at 200 dpi (bench_ocr's office scan),
  against plain PP-OCRv4 (rapidocr_onnxruntime, engine loaded once and warmed up) reading the same
  page images, in the same run, interleaved (plain, cold, plain, cold …). The ratio is of medians.
- **Profile**: one cold scanned run in a child process with every page in that process (one OCR
  worker), its wall time split into stages by wrapping the stage functions (self time: a stage
  called inside another is counted once, in the inner stage).
- **Warm**: the scanned report again in this process after a warm-up (page workers and models
  loaded), s/page; and the peak RSS of each OCR worker.
- `--compare DIR` runs every cold command and the profile twice, interleaved: with this checkout
  and with `PYTHONPATH=DIR` (a copy of service/ from before a change), so both see the same load.

Wall seconds are noisy on a shared 2-core machine: medians of interleaved runs are printed with
CPU seconds (user + system of the command and its workers) and peak RSS, which load disturbs less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL_PDF = REPO.parent / "shared" / "corpus" / "real" / "huaian-hongze-2023.pdf"
DPI = 200.0


# ----------------------------------------------------------------------------- inputs
def born_digital_pdf(out: Path) -> Path:
    if REAL_PDF.is_file():
        return REAL_PDF
    from benchmarks.bench_born_digital import many_page_pdf

    path = out / "born-digital-5p.pdf"
    path.write_bytes(many_page_pdf(5))
    return path


def scanned_pdf(out: Path, seed: int = 7) -> Path:
    from benchmarks.bench_ocr import _docs

    path = out / "scan-3p.pdf"
    path.write_bytes(_docs(1, seed)[0][1])
    return path


def page_images(pdf: Path) -> list[Any]:
    """The scan's pages rendered as the pipeline renders them (BGR at 200 dpi)."""
    import numpy as np
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        out = []
        for i in range(len(doc)):
            rgb = np.asarray(doc[i].render(scale=DPI / 72).to_pil().convert("RGB"))
            out.append(np.ascontiguousarray(rgb[:, :, ::-1]))
        return out
    finally:
        doc.close()


# ----------------------------------------------------------------------------- commands
# The command runs as the grandchild of a small launcher, which times it and reads its rusage. Run
# directly, a child's peak RSS (ru_maxrss) starts at this process's own: Linux carries the parent's
# high-water mark over to a vforked child at exec, and this process holds the plain engine and the
# page images (~1 GB), which made the scanned peaks read ~400 MB too high before.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
               "code": os.waitstatus_to_exitcode(status), "err": err[-2000:]}, out)
"""


def run_command(args: list[str], pythonpath: str | None = None) -> dict[str, float]:
    """Run a command to the end: wall seconds, CPU seconds (with its reaped workers), peak RSS MB
    of the largest of its processes."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([sys.executable, "-c", _LAUNCHER, report.name, *args], env=env, check=True)
        got = json.loads(Path(report.name).read_text())
    if got["code"] not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} exited {got['code']}: {got['err']}")
    return {"wall": got["wall"], "cpu": got["cpu"], "rss_mb": got["rss_mb"]}


def extract_cmd(pdf: Path) -> list[str]:
    return [sys.executable, "-m", "gongkai.cli", "extract", str(pdf), "--format", "json", "-o", os.devnull]


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def plain_ppocr_v4() -> Callable[[list[Any]], float]:
    """Plain PP-OCRv4 (rapidocr_onnxruntime's own pipeline: detection, angle classifier,
    recognition), loaded once; returns a function that reads the pages and gives the wall seconds."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def read(images: list[Any]) -> float:
        t0 = time.perf_counter()
        for img in images:
            engine(img)
        return time.perf_counter() - t0

    return read


# ----------------------------------------------------------------------------- profile (child)
# (module, attribute, stage): self time of each call goes to the stage. Missing names are skipped,
# so the profile keeps working while stage modules change.
PROFILE_HOOKS: list[tuple[str, str, str]] = [
    ("gongkai.pipeline.ingest.pdf", "_read_page", "PDF text layer"),
    ("gongkai.pipeline.ingest.pdf", "_ocr_pages", "render pages"),
    ("gongkai.pipeline.ocr.engine", "OnnxPpOcr.__init__", "model loads"),
    ("gongkai.pipeline.ocr.engine", "OnnxPpOcr._det_session", "model loads"),
    ("gongkai.pipeline.ocr.layout_model", "CdlaLayout.__init__", "model loads"),
    ("gongkai.pipeline.nlp.classifier", "load_classifier", "model loads"),
    ("gongkai.pipeline.nlp.segment", "_jieba", "model loads"),
    ("gongkai.pipeline.ocr.page", "ocr_page", "OCR page (other)"),
    ("gongkai.pipeline.ocr.page", "prepare_page", "preparation"),
    ("gongkai.pipeline.ocr.page", "find_tables", "table rules"),
    ("gongkai.pipeline.ocr.page", "_detect_outside", "detection"),
    ("gongkai.pipeline.ocr.page", "_upside_down", "orientation"),
    ("gongkai.pipeline.ocr.page", "_recognize_crops", "recognition"),
    ("gongkai.pipeline.ocr.page", "_second_opinion", "second opinion"),
    ("gongkai.pipeline.ocr.page", "_layout_regions", "layout model"),
    ("gongkai.pipeline.ocr.page", "pending_regions", "layout model"),
    ("gongkai.pipeline.extract", "extract_document", "layout, mapping, checks, repair"),
    ("gongkai.pipeline.extract", "narrative", "narrative"),  # module: patched below
    ("gongkai.pipeline.result", "ExtractionResult.to_json", "JSON output"),
]


class _Stages:
    """Self time per stage: entering a stage pauses the one it was called from."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list[Any]] = []

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            now = time.perf_counter()
            if self._stack:
                top = self._stack[-1]
                self.seconds[top[0]] = self.seconds.get(top[0], 0.0) + now - top[1]
            self._stack.append([stage, now])
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                name, since = self._stack.pop()
                self.seconds[name] = self.seconds.get(name, 0.0) + end - since
                if self._stack:
                    self._stack[-1][1] = end

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


def profile_child(pdf: str) -> None:
    """Runs in a fresh process: one cold extraction with all pages in this process, stage times as
    JSON on stdout."""
    t_start = time.perf_counter()
    import builtins
    import importlib

    stages = _Stages()
    real_import = builtins.__import__
    # Imports done inside stages (lazy ones) count as imports, not as the stage.
    builtins.__import__ = stages.wrap("imports", real_import)
    importlib.import_module = stages.wrap("imports", importlib.import_module)  # type: ignore[assignment]
    from gongkai.pipeline import extract as extract_mod
    from gongkai.settings import PipelineOptions

    for module_name, attr, stage in PROFILE_HOOKS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if attr == "narrative":
            for name in ("build_sections",):
                setattr(module.narrative, name, stages.wrap(stage, getattr(module.narrative, name)))
            for name in ("facts_and_checks", "enrich_metadata"):
                setattr(module.nlp, name, stages.wrap(stage, getattr(module.nlp, name)))
            continue
        owner: Any = module
        parts = attr.split(".")
        for p in parts[:-1]:
            owner = getattr(owner, p, None)
        if owner is None or not hasattr(owner, parts[-1]):
            continue
        # A cached loader wrapped from outside costs its body once, then the cache look-up.
        setattr(owner, parts[-1], stages.wrap(stage, getattr(owner, parts[-1])))
    options = PipelineOptions(ocr_workers=1)
    t0 = time.perf_counter()
    result = extract_mod.extract_path(pdf, options=options)
    result.to_json()
    run = time.perf_counter() - t0
    builtins.__import__ = real_import
    accounted = sum(stages.seconds.values())
    total = time.perf_counter() - t_start
    stages.seconds["other"] = max(0.0, total - accounted)
    print(json.dumps({"seconds": stages.seconds, "total": total, "run": run, "pages": result.source.pages}))


def profile(pdf: Path, pythonpath: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([p for p in (pythonpath, str(REPO)) if p])
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_cold", "--profile-child", str(pdf)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    data["seconds"]["python start-up"] = max(0.0, wall - data["total"])
    data["wall"] = wall
    return data


# ----------------------------------------------------------------------------- warm
def status_mb(pid: int | str, field: str) -> float | None:
    """A memory field of /proc/PID/status (VmRSS, VmHWM) in MB; None once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def warm_child(pdf: str, reps: int) -> None:
    """Runs in a fresh process: the scan read again and again with the default options (page
    workers/threads and models loaded by a first, untimed run). Prints s/page, and the peak and idle
    RSS of every process that read pages (this one, and page worker processes if any)."""
    from gongkai.pipeline import ocr
    from gongkai.pipeline.extract import extract_bytes

    data = Path(pdf).read_bytes()
    extract_bytes(data, Path(pdf).name)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        result = extract_bytes(data, Path(pdf).name)
        times.append((time.perf_counter() - t0) / result.source.pages)
    procs: list[int | str] = ["self", *(getattr(getattr(ocr, "_POOL", None), "_processes", None) or {})]
    memory = [{"peak": status_mb(p, "VmHWM"), "idle": status_mb(p, "VmRSS")} for p in procs]
    ocr.shutdown_pool()
    print(json.dumps({"s_page": statistics.median(times), "processes": memory}))


def warm(pdf: Path, reps: int, pythonpath: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([p for p in (pythonpath, str(REPO)) if p])
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_cold", "--warm-child", str(pdf), "--reps", str(reps)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


# ----------------------------------------------------------------------------- main
def _row(label: str, runs: list[dict[str, float]], extra: str = "") -> str:
    return (
        f"| {label} | {len(runs)} | {median(runs, 'wall'):.2f} | {min(r['wall'] for r in runs):.2f} "
        f"| {median(runs, 'cpu'):.2f} | {max(r['rss_mb'] for r in runs):.0f} |{extra}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--compare", metavar="DIR", help="also run with PYTHONPATH=DIR (code before a change)")
    ap.add_argument("--skip-scan", action="store_true")
    ap.add_argument("--skip-warm", action="store_true")
    ap.add_argument("--skip-profile", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile-child", metavar="PDF", help=argparse.SUPPRESS)
    ap.add_argument("--warm-child", metavar="PDF", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.profile_child:
        profile_child(args.profile_child)
        return 0
    if args.warm_child:
        warm_child(args.warm_child, args.reps)
        return 0

    variants: list[tuple[str, str | None]] = [("now", None)]
    if args.compare:
        variants.insert(0, ("before", args.compare))
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    load0 = os.getloadavg()
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, load average at start {load0[0]:.1f}")
    print()

    born = born_digital_pdf(tmp)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in variants}
    for _name, path in variants:  # one untimed run each: the OS file cache, .pyc files
        run_command(extract_cmd(born), path)
    for _ in range(args.reps):
        for name, path in variants:
            runs[name].append(run_command(extract_cmd(born), path))
    print(f"Born-digital cold: `gongkai extract {born.name} --format json` (5 pages), fresh process each run")
    print()
    print("| code | runs | wall s (median) | wall s (best) | CPU s (median) | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _ in variants:
        print(_row(name, runs[name]))
    print()

    if not args.skip_scan:
        scan = scanned_pdf(tmp, args.seed)
        images = page_images(scan)
        n = len(images)
        plain = plain_ppocr_v4()
        plain(images[:1])  # warm-up: the plain engine is measured loaded
        plain_runs: list[float] = []
        scan_runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in variants}
        for _ in range(args.reps):
            plain_runs.append(plain(images) / n)
            for name, path in variants:
                r = run_command(extract_cmd(scan), path)
                scan_runs[name].append({**r, "wall": r["wall"] / n, "cpu": r["cpu"] / n})
        plain_s = statistics.median(plain_runs)
        print(
            f"Scanned cold: `gongkai extract {scan.name} --format json` ({n} pages at 200 dpi), "
            f"whole command, per page; plain PP-OCRv4 (rapidocr_onnxruntime, loaded) on the same "
            f"pages: {plain_s:.2f} s/page (median of {len(plain_runs)})"
        )
        print()
        print(
            "| code | runs | wall s/page (median) | wall s/page (best) | CPU s/page (median) "
            "| peak RSS MB | ratio to plain PP-OCRv4 |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, _ in variants:
            ratio = median(scan_runs[name], "wall") / plain_s
            print(_row(name, scan_runs[name], f" {ratio:.2f} |"))
        print()

        if not args.skip_profile:
            profiles = {name: profile(scan, path) for name, path in variants}
            stages = sorted({s for p in profiles.values() for s in p["seconds"]})
            order = sorted(stages, key=lambda s: -max(p["seconds"].get(s, 0.0) for p in profiles.values()))
            print(f"Profile of one cold scanned run ({n} pages, all in one process, seconds of wall time)")
            print()
            print("| stage | " + " | ".join(name for name, _ in variants) + " |")
            print("|---|" + "---:|" * len(variants))
            for s in order:
                cells = [f"{profiles[name]['seconds'].get(s, 0.0):.2f}" for name, _ in variants]
                print(f"| {s} | " + " | ".join(cells) + " |")
            walls = [f"**{profiles[name]['wall']:.2f}**" for name, _ in variants]
            print("| **total (wall)** | " + " | ".join(walls) + " |")
            print()

        if not args.skip_warm:
            print(f"Scanned warm: the same scan read {args.reps} more times by one process after a first run")
            print()
            print("| code | wall s/page (median) | peak RSS MB per reading process | idle RSS MB after |")
            print("|---|---:|---|---|")
            for name, path in variants:
                w = warm(scan, args.reps, path)
                peaks = ", ".join(f"{m['peak']:.0f}" for m in w["processes"] if m["peak"])
                idles = ", ".join(f"{m['idle']:.0f}" for m in w["processes"] if m["idle"])
                print(f"| {name} | {w['s_page']:.2f} | {peaks} | {idles} |")
            print()
    load1 = os.getloadavg()
    print(f"load average at end {load1[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
