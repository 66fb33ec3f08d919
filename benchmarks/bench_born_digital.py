"""Born-digital extraction speed: pages per second on one core, end to end (ingest → checks).

Usage: python benchmarks/bench_born_digital.py [--pages 40] [--repeat 3]
Prints a Markdown table; paste it into BENCHMARKS.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec
from gongkai.pipeline.extract import extract_document
from gongkai.pipeline.ingest import load_document

REPO = Path(__file__).resolve().parents[1]

FILLER = (
    "{year}年，{agency}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "围绕中心工作，持续深化政务公开，加强政府信息管理和平台建设，依法依规做好依申请公开工作，"
    "不断提升政务公开标准化规范化水平，切实保障人民群众的知情权、参与权、表达权和监督权。"
)


def many_page_pdf(pages: int) -> bytes:
    """A real-looking 2021 report whose overview runs long enough to fill about ``pages`` pages."""
    spec = blank_spec("2021", 2023, "某某市某某区人民政府", value="7")
    overview = spec.section("overview")
    assert overview is not None
    # About six such paragraphs fill an A4 page at 14 pt; the tables take three more pages.
    overview.paragraphs = [FILLER.format(year=2023, agency=spec.agency)] * max(1, (pages - 3) * 6)
    return render_pdf(spec, RenderOptions(page_header=f"{spec.agency}2023年政府信息公开工作年度报告"))


def bench(name: str, data: bytes, repeat: int) -> tuple[str, int, float, float, float]:
    """Best wall time and best CPU time of ``repeat`` runs (CPU time is what other load on the
    machine disturbs least)."""
    extract_document(load_document(data, name))  # warm up imports and caches
    best_wall = best_cpu = float("inf")
    n_pages = 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = extract_document(load_document(data, name))
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        n_pages = result.source.pages
    return name, n_pages, best_wall, n_pages / best_wall, n_pages / best_cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal says
    rows = [bench("synthetic-2021-long.pdf", many_page_pdf(args.pages), args.repeat)]
    real = REPO.parent / "shared" / "corpus" / "real" / "huaian-hongze-2023.pdf"
    if real.is_file():
        rows.append(bench(real.name, real.read_bytes(), args.repeat))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, one core pinned"
    )
    print()
    print(
        f"| document | pages | wall seconds (best of {args.repeat}) | pages/s (wall) | pages/s (CPU time) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, pages, secs, pps, cpu_pps in rows:
        print(f"| {name} | {pages} | {secs:.3f} | {pps:.1f} | {cpu_pps:.1f} |")
    print()
    print(f"peak RSS of the benchmark process: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
