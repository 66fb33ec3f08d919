"""OCR speed and accuracy on generated scans: s/page end to end, cell accuracy before/after repair.

Usage: .venv/bin/python -m benchmarks.bench_ocr [--docs 2] [--seed 7]

Renders reports with consistent tables (the generator's table_values), scans them with
gongkai.devtools.corpora.synthetic.degrade ("typical" options: skew, blur, noise, JPEG, seal), runs the whole
pipeline and compares every statutory cell with the spec. Variants:

- baseline: one process, PP-OCRv4 (rapidocr_onnxruntime), detector on the full page at 1600 px;
- optimised: the default engine (PP-OCRv6 small, float), detector at 1280 px outside tables only,
  table cells recognised in batches from their crops, pages on one thread per core;
- int8: the same with the opt-in engine ppocr-v6-int8 (wide crops read by our int8 build of the
  recogniser, doubtful readings again in float, numbers in float).

Wall seconds are noisy on a shared 2-core machine; CPU seconds of this process and its workers
are printed beside them.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, SealPlace


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _docs(n: int, seed: int) -> list[tuple[Any, bytes]]:
    from gongkai.devtools.corpora.synthetic import RenderOptions, blank_spec, render_pdf
    from gongkai.devtools.corpora.synthetic.degrade import scan_pdf
    from gongkai.devtools.corpora.synthetic.generate import table_values
    from gongkai.pipeline.schema import load_format

    rng = random.Random(seed)
    out = []
    for i in range(n):
        spec = blank_spec("2021", 2022 + i % 2, "某某市某某区人民政府")
        for cid, v in table_values(rng, load_format("2021")).items():
            spec = spec.with_cell(cid, str(v))
        pdf = render_pdf(spec, RenderOptions(page_header=spec.title))
        opts = scan_options(rng, 3, seal_page=0, seal_place="table")
        out.append((spec, scan_pdf(pdf, opts, seed=seed + i)))
    return out


def scan_options(
    rng: random.Random, pages: int, *, seal_page: int, seal_place: SealPlace = "signature"
) -> list[ScanOptions]:
    """The benchmarks' office scan: random skew within ±1.5°, some blur, noise, JPEG and grey
    paper on every page, and a red seal on one page."""
    from gongkai.devtools.corpora.synthetic.degrade import ScanOptions

    return [
        ScanOptions(
            skew_deg=rng.uniform(-1.5, 1.5),
            blur=rng.choice([0.0, 0.5, 0.8]),
            noise=rng.choice([0.0, 0.02, 0.04]),
            jpeg_quality=rng.choice([None, 75, 60]),
            grey_paper=rng.random() < 0.5,
            seal=k == seal_page,
            seal_place=seal_place,
        )
        for k in range(pages)
    ]


def _score(spec: Any, result: Any) -> dict[str, int]:
    s = {"cells": 0, "raw_ok": 0, "final_ok": 0, "silent": 0, "repaired": 0}
    failing = {c for chk in result.failing_checks() for c in chk.cells}
    for cid, text in spec.cells.items():
        cell = result.cells.get(cid)
        if cell is None or not cell.statutory:
            continue
        s["cells"] += 1
        final = "" if cell.value is None else str(cell.value)
        raw = (cell.raw or "").strip()
        s["raw_ok"] += raw == text
        s["final_ok"] += final == text
        s["repaired"] += cell.repaired_by is not None
        if final != text and cid not in failing and cell.confidence >= 0.8:
            s["silent"] += 1
    return s


def run(variant: str, docs: list[tuple[Any, bytes]]) -> dict[str, float]:
    from gongkai.pipeline.extract import extract_bytes
    from gongkai.pipeline.ocr import engine as engine_mod
    from gongkai.settings import PipelineOptions

    # Each variant names its engine and page workers, whatever GONGKAI_* says; the rest comes from it.
    if variant == "baseline":
        options = PipelineOptions(ocr_engine="ppocr-v4", ocr_workers=1)
        engine_mod.OnnxPpOcr.__init__.__kwdefaults__["det_max_side"] = 1600  # type: ignore[index]
    else:
        engine = "ppocr-v6-int8" if variant == "int8" else "ppocr-v6"
        options = PipelineOptions(ocr_engine=engine, ocr_workers=None)
        engine_mod.OnnxPpOcr.__init__.__kwdefaults__["det_max_side"] = 1280  # type: ignore[index]
    engine_mod.get_engine.cache_clear()
    totals = {"cells": 0, "raw_ok": 0, "final_ok": 0, "silent": 0, "repaired": 0}
    pages = 0
    wall0, cpu0 = time.perf_counter(), _cpu()
    for spec, scan in docs:
        result = extract_bytes(scan, "scan.pdf", options=options)
        pages += len(result.pages)
        for k, v in _score(spec, result).items():
            totals[k] += v
    from gongkai.pipeline.ocr import shutdown_pool

    shutdown_pool()  # reap the workers so their CPU time is counted
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    return {"pages": pages, "wall": wall / pages, "cpu": cpu / pages, **totals}


def recogniser_us_per_column(engine: str = "ppocr-v6", reps: int = 5) -> float:
    """This machine's speed as the recogniser sees it: µs per padded input column, one thread, on a
    fixed 2 x 480-column batch. Most of a scanned page's CPU is this times its columns (~16 700 a
    page on the benchmark scan), so it puts figures from different machines side by side."""
    import numpy as np

    from gongkai.pipeline.ocr.models import ocr_model_files, onnx_session

    session = onnx_session(str(ocr_model_files(engine).rec), 1)
    batch = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, 480)).astype(np.float32)
    feed = {session.get_inputs()[0].name: batch}
    session.run(None, feed)
    t0 = time.perf_counter()
    for _ in range(reps):
        session.run(None, feed)
    return (time.perf_counter() - t0) / reps / batch.shape[0] / batch.shape[3] * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--variants", default="baseline,optimised", help="comma list: baseline, optimised, int8")
    args = ap.parse_args()
    docs = _docs(args.docs, args.seed)
    print(f"{args.docs} reports, {args.docs * 3} scanned pages at 200 dpi, {os.cpu_count()} cores")
    print(f"this machine: PP-OCRv6's recogniser {recogniser_us_per_column():.0f} µs per column (one thread)")
    print("| variant | s/page (wall) | CPU s/page | cells | raw correct | after repair | repaired | silent |")
    print("|---|---|---|---|---|---|---|---|")
    for variant in args.variants.split(","):
        r = run(variant, docs)
        n = max(1, int(r["cells"]))
        print(
            f"| {variant} | {r['wall']:.2f} | {r['cpu']:.2f} | {n} | {100 * r['raw_ok'] / n:.2f}% "
            f"| {100 * r['final_ok'] / n:.2f}% | {int(r['repaired'])} | {int(r['silent'])} |"
        )


if __name__ == "__main__":
    main()
