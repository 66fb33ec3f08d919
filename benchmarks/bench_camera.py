"""Camera captures (issue 16): the real 淮安市洪泽区 2023 report photographed, and the price flatbed
scans pay for the camera checks.

Usage: .venv/bin/python -m benchmarks.bench_camera [--seeds 1,2] [--skip-real] [--flat-pages 6]

1. The report (../shared/corpus/real) is rendered at 200 dpi and photographed by the corpus
   generator's camera (``gongkai.devtools.corpora.synthetic.camera``) two ways: ``mild`` (corners moved
   1-3 % of the page, white surround, nearly even light) and ``phone`` (perspective, a dark table
   around the page, warm uneven light, noise, slight blur), as JPEG pages of an image-only PDF. The
   whole pipeline reads it; cells are scored against the hand-checked truth (corpora/real/truth),
   with the agency read from the photo.
2. Flatbed pages (the generator's typical office scan of the same report) go through the camera
   checks alone (page edge, light evenness, rule geometry) to give their cost per page on one core,
   and the check's verdicts (all must say "untouched").
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PDF = REPO.parent / "shared" / "corpus" / "real" / "huaian-hongze-2023.pdf"
TRUTH = REPO / "corpora" / "real" / "truth" / "huaian-hongze-2023.json"


def photographed_pdf(pdf: bytes, kind: str, seed: int) -> bytes:
    """Every page photographed (``kind`` = mild | phone), saved as a JPEG-page PDF at 72 dpi (a phone's)."""
    from gongkai.devtools.corpora.synthetic.camera import CameraOptions, photograph
    from gongkai.devtools.corpora.synthetic.degrade import rasterize_pdf

    rng = random.Random(seed)
    pages = []
    for i, page in enumerate(rasterize_pdf(pdf, dpi=200)):
        opt = CameraOptions.random(rng, kind)
        if kind == "phone":  # the phone photo: always on the dark table
            opt = CameraOptions(**{**opt.as_dict(), "surround": "dark", "touch": False})
        photo, _ = photograph(page, opt, np.random.default_rng([seed, i]))
        pages.append(photo)
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=72.0, quality=85)
    return buf.getvalue()


def real_report(seeds: list[int]) -> None:
    from gongkai.pipeline.extract import extract_bytes
    from gongkai.settings import PipelineOptions

    pdf = PDF.read_bytes()
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    print(
        "| capture | seed | cells | wrong | silent | agency | failing checks (the report's own?) | s/page |"
    )
    print("|---|---:|---:|---:|---:|---|---|---:|")
    for kind in ("mild", "phone"):
        for seed in seeds:
            photo = photographed_pdf(pdf, kind, seed)
            t = time.perf_counter()
            result = extract_bytes(photo, f"hongze-{kind}.pdf", options=PipelineOptions())
            n = len(result.pages)
            seconds = (time.perf_counter() - t) / max(1, n)
            failing = {c for chk in result.failing_checks() for c in chk.cells}
            wrong = [
                cid
                for cid, want in truth["cells"].items()
                if cid not in result.cells or str(result.cells[cid].value) != str(want)
            ]
            silent = [
                c
                for c in wrong
                if c in result.cells and c not in failing and result.cells[c].confidence >= 0.5
            ]
            checks = sorted(c.id for c in result.failing_checks())
            ok = "yes" if checks == sorted(truth["expected_failing_checks"]) else "NO"
            print(
                f"| {kind} | {seed} | {len(truth['cells'])} | {len(wrong)} | {len(silent)} | "
                f"{result.metadata.agency} | {', '.join(checks)} ({ok}) | {seconds:.2f} |",
                flush=True,
            )


def flatbed_cost(n_pages: int) -> None:
    import cv2

    from benchmarks.bench_ocr import scan_options
    from gongkai.devtools.corpora.synthetic.degrade import degrade_pdf_pages
    from gongkai.pipeline.ocr import pagefind
    from gongkai.pipeline.ocr.illumination import UNEVEN, unevenness
    from gongkai.pipeline.ocr.prepare import ink_mask, normalise_resolution, suppress_red

    pdf = PDF.read_bytes()
    import pypdfium2 as pdfium

    n = len(pdfium.PdfDocument(pdf))
    pages = degrade_pdf_pages(pdf, scan_options(random.Random(3), n, seal_page=n - 1), seed=3)[:n_pages]
    cv2.setNumThreads(1)
    find, light, rules, touched = [], [], [], 0
    for img, opt in pages:
        bgr = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
        t = time.perf_counter()
        quad = pagefind.find_page(bgr)
        find.append(time.perf_counter() - t)
        t = time.perf_counter()
        uneven = unevenness(bgr) > UNEVEN
        light.append(time.perf_counter() - t)
        grey, _ = normalise_resolution(suppress_red(bgr)[0], opt.dpi)
        mask = ink_mask(grey)
        t = time.perf_counter()
        hom = pagefind.rules_homography(pagefind.rule_geometry(mask))
        rules.append(time.perf_counter() - t)
        touched += quad is not None or uneven or hom is not None
    total = np.array(find) + np.array(light) + np.array(rules)
    print(
        f"flatbed pages: {len(pages)}, touched by the camera steps: {touched}; seconds per page on one core: "
        f"page edge {np.mean(find):.3f}, light check {np.mean(light):.3f}, "
        f"rule geometry {np.mean(rules):.3f}, "
        f"total {np.mean(total):.3f} (max {np.max(total):.3f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--skip-real", action="store_true", help="only the flatbed cost")
    ap.add_argument("--flat-pages", type=int, default=6)
    args = ap.parse_args()
    if not PDF.is_file():
        raise SystemExit(f"{PDF} is not available on this machine")
    flatbed_cost(args.flat_pages)
    if not args.skip_real:
        real_report([int(s) for s in args.seeds.split(",")])


if __name__ == "__main__":
    main()
