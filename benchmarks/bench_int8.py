"""How closely int8 recognisers read like PP-OCRv6's float one, crop by crop, and at what CPU cost.

Usage: .venv/bin/python -m benchmarks.bench_int8 [MODEL.onnx ...] [--n 6] [--seed 4343] [--camera 0.5]

Generates a synthetic corpus (scans and images, a share of them camera captures), records every crop
the float engine recognises while the pipeline reads it, then reads all crops again with each model
given (default: the shipped models/ocr/ppocr-v6-rec-int8.onnx) in place of the float recogniser,
on one thread. Prints, per model: CPU seconds, text crops that read differently from float, and
number crops whose best digit-only reading differs (BENCHMARKS.md, issue 15 third part). Use a
training seed here, not an evaluation one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any


def float_crops(n: int, seed: int, camera: float) -> list[Any]:
    from gongkai.devtools.corpora.synthetic.generate import GenerateConfig, generate
    from gongkai.pipeline.extract import extract_path
    from gongkai.pipeline.ocr import engine as enginelib
    from gongkai.settings import PipelineOptions

    crops: list[Any] = []
    real = enginelib.OnnxPpOcr.recognize

    def recording(self: Any, images: Any) -> Any:
        if self.name == "ppocr-v6":
            crops.extend(c.copy() for c in images)
        return real(self, images)

    options = PipelineOptions(ocr_engine="ppocr-v6", ocr_second_engine="off", ocr_workers=1, ocr_threads=1)
    with tempfile.TemporaryDirectory(prefix="bench-int8-") as tmp:
        corpus = Path(tmp)
        generate(GenerateConfig(out_dir=corpus, n=n, seed=seed, kinds=("scan_pdf", "image"), camera=camera))
        enginelib.OnnxPpOcr.recognize = recording  # type: ignore[method-assign]
        try:
            for path in sorted(p for p in corpus.iterdir() if p.suffix in (".pdf", ".tif")):
                extract_path(path, options=options)
        finally:
            enginelib.OnnxPpOcr.recognize = real  # type: ignore[method-assign]
    return crops


def main() -> None:
    from gongkai.pipeline.ocr.engine import OnnxPpOcr, looks_like_digits
    from gongkai.pipeline.ocr.models import models_dir, ocr_model_files, onnx_session

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path, help="int8 recognisers to compare")
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--seed", type=int, default=4343)
    ap.add_argument("--camera", type=float, default=0.5)
    args = ap.parse_args()
    models = args.models or [models_dir() / "ocr" / "ppocr-v6-rec-int8.onnx"]
    crops = float_crops(args.n, args.seed, args.camera)
    engine = OnnxPpOcr(ocr_model_files("ppocr-v6"), threads=1)
    float_session = engine.rec

    def read(session: Any) -> tuple[list[Any], float]:
        engine.rec = session
        t0 = time.process_time()
        recs = engine.recognize(crops)
        return recs, time.process_time() - t0

    def best_digits(probs: Any) -> str:
        found = engine.digit_candidates(probs, 1)
        return found[0][0] if found else ""

    reference, float_cpu = read(float_session)
    numbers = [i for i, r in enumerate(reference) if looks_like_digits(r.text)]
    print(f"{len(crops)} crops ({len(numbers)} numbers), seed {args.seed}, {args.n} documents")
    print("| model | CPU s (one thread) | text crops read differently | number crops, best reading differs |")
    print("|---|---:|---:|---:|")
    print(f"| float (ppocr-v6) | {float_cpu:.2f} | — | — |")
    for path in models:
        recs, cpu = read(onnx_session(path, 1))
        text = sum(a.text != b.text for a, b in zip(reference, recs, strict=True))
        digits = sum(best_digits(reference[i].probs) != best_digits(recs[i].probs) for i in numbers)
        print(f"| {path} | {cpu:.2f} | {text} | {digits} / {len(numbers)} |")


if __name__ == "__main__":
    main()
