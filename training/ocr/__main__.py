"""Build the int8 PP-OCRv6 recogniser (``models/ocr/``) from the rapidocr wheel's float model.

    python -m training.ocr --out models/ocr            # the shipped artifact (~3 min on 2 cores)
    python -m training.ocr --out /tmp/x --docs 2        # a quick build (tests)

Static post-training quantisation (ONNX Runtime's QDQ format: int8 weights per channel, uint8
activations, MinMax ranges) calibrated on the recogniser inputs that the pipeline itself builds
while reading a synthetic corpus of training seed ``--seed`` (scans and camera captures of every
template generation). Evaluation uses other, fresh seeds: nothing here looks at them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.ocr.quantize import CALIBRATION_SEED, build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for the model and its build record")
    ap.add_argument("--seed", type=int, default=CALIBRATION_SEED, help="calibration corpus seed")
    ap.add_argument("--docs", type=int, default=10, help="calibration documents (scans, images)")
    args = ap.parse_args(argv)
    record = build(args.out, seed=args.seed, docs=args.docs, log=lambda m: print(m, file=sys.stderr))
    print(
        f"wrote {args.out / record['file']} ({record['bytes'] / 1e6:.1f} MB, sha256 {record['sha256'][:12]}…)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
