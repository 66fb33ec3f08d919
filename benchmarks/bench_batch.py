"""`gongkai batch` throughput: a synthetic archive of N reports, a first run, then a rerun that skips all.

Usage: python benchmarks/bench_batch.py [--n 1000] [--workers 2] [--keep DIR]
The archive mixes HTML pages (some GBK in portal chrome), DOCX files and crawled text for 50
agencies over the years, plus 2 % byte-identical duplicates and 1 % files that are not reports, half
of it inside a zip. Prints a Markdown table; paste it into BENCHMARKS.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from gongkai.batch.progress import QuietReporter
from gongkai.batch.runner import BatchConfig, run_batch
from gongkai.devtools.corpora.synthetic.render_docx import render_docx
from gongkai.devtools.corpora.synthetic.render_html import render_html
from gongkai.devtools.corpora.synthetic.spec import blank_spec
from gongkai.settings import PipelineOptions

NOT_A_REPORT = "关于召开全区安全生产工作会议的通知\n定于下周一上午九时召开会议，请准时参加。\n"


def build_archive(root: Path, n: int, seed: int = 7) -> int:
    """Write about ``n`` files under ``root`` (half of them zipped); returns the number of files."""
    rng = random.Random(seed)
    files: list[tuple[str, bytes]] = []
    for i in range(n):
        agency = f"第{i % 50 + 1}区人民政府"
        year = 2020 + (i // 50) % 5
        r = rng.random()
        if r < 0.01:
            files.append((f"misc/{i}.txt", NOT_A_REPORT.encode("gbk")))
            continue
        if r < 0.03 and files:
            files.append((f"dup/{i}.bin", files[rng.randrange(len(files))][1]))
            continue
        spec = blank_spec("2021", year, agency, value=str(rng.randint(0, 3)))
        if r < 0.75:
            data = render_html(spec)
            if rng.random() < 0.3:
                data = data.decode("utf-8").replace('charset="utf-8"', 'charset="gb2312"').encode("gb18030")
            files.append((f"{year}/{i}.html", data))
        else:
            files.append((f"{year}/{i}.docx", render_docx(spec)))
    half = len(files) // 2
    with zipfile.ZipFile(root / "part.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files[:half]:
            zf.writestr(name, data)
    for name, data in files[half:]:
        path = root / "folder" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--keep", type=Path, help="keep the archive and the dataset in this folder")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="gongkai-bench-batch-"))
    src, out = base / "archive", base / "out"
    shutil.rmtree(out, ignore_errors=True)
    src.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    n_files = build_archive(src, args.n)
    built = time.perf_counter() - t0

    def once() -> tuple[float, dict[str, int]]:
        config = BatchConfig(
            sources=[str(src)],
            out_dir=out,
            workers=args.workers,
            options=PipelineOptions(ocr=False),
            argv=["bench_batch"],
        )
        start = time.perf_counter()
        counts = run_batch(config, QuietReporter())
        return time.perf_counter() - start, counts

    first, counts = once()
    again, counts_again = once()
    pages = counts.get("done", 0)  # the synthetic HTML and DOCX are one page each
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"archive: {n_files} files built in {built:.1f} s under {base}")
    print()
    print("| run | files | outcome | wall s | files/s | pages/s |")
    print("|---|---:|---|---:|---:|---:|")
    print(
        f"| first ({args.workers} workers) | {n_files} | {counts} | {first:.1f} | {n_files / first:.1f} "
        f"| {pages / first:.1f} |"
    )
    print(f"| rerun (all skipped) | {n_files} | {counts_again} | {again:.1f} | {n_files / again:.1f} | – |")
    print()
    print(f"batch process peak RSS: {peak_mb:.0f} MiB")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
