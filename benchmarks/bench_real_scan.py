"""The real 淮安市洪泽区 2023 report (../shared/corpus/real) scanned with random degradations and read
back by OCR, scored against its hand-checked truth (corpora/real/truth).

Usage: .venv/bin/python -m benchmarks.bench_real_scan [--seeds 1,2,3]

Unlike the synthetic corpus, the layout is the agency's own (fonts, column widths, its table
breaks). The report has two arithmetic errors of its own in table 四: they must still fail after
OCR and repair, never be "repaired" away.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PDF = REPO.parent / "shared" / "corpus" / "real" / "huaian-hongze-2023.pdf"
TRUTH = REPO / "corpora" / "real" / "truth" / "huaian-hongze-2023.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    if not PDF.is_file():
        raise SystemExit(f"{PDF} is not available on this machine")
    import pypdfium2 as pdfium

    from benchmarks.bench_ocr import scan_options
    from gongkai.devtools.corpora.synthetic.degrade import scan_pdf
    from gongkai.pipeline.extract import extract_bytes
    from gongkai.settings import PipelineOptions

    options = PipelineOptions()  # GONGKAI_OCR_ENGINE etc. choose the variant measured
    pdf = PDF.read_bytes()
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    n = len(pdfium.PdfDocument(pdf))
    print(
        "| seed | pages | cells | wrong | silent | failing checks (the report's own?) | repaired | s/page |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for seed in (int(s) for s in args.seeds.split(",")):
        opts = scan_options(random.Random(seed), n, seal_page=n - 1)
        scan = scan_pdf(pdf, opts, seed=seed)
        t = time.perf_counter()
        result = extract_bytes(scan, "hongze-scan.pdf", options=options)
        seconds = (time.perf_counter() - t) / n
        failing = {c for chk in result.failing_checks() for c in chk.cells}
        wrong = [
            cid
            for cid, want in truth["cells"].items()
            if cid not in result.cells or str(result.cells[cid].value) != str(want)
        ]
        silent = [c for c in wrong if c not in failing and result.cells[c].confidence >= 0.5]
        checks = sorted(c.id for c in result.failing_checks())
        ok = "yes" if checks == sorted(truth["expected_failing_checks"]) else "NO"
        repaired = sum(1 for c in result.cells.values() if c.repaired_by)
        print(
            f"| {seed} | {n} | {len(truth['cells'])} | {len(wrong)} | {len(silent)} | "
            f"{', '.join(checks)} ({ok}) | {repaired} | {seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
