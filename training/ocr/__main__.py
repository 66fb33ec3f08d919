"""Build the int8 PP-OCRv6 recogniser (``models/ocr/``) from the rapidocr wheel's float model.

    python -m training.ocr --out models/ocr            # the shipped artifact (~3 min on 2 cores)
    python -m training.ocr --out /tmp/x --docs 2        # a quick build (tests)
    python -m training.ocr --out /tmp/b --no-reduce-range --inputs-cache /tmp/calib.npz
                                                        # a variant of BENCHMARKS.md's comparison

Static post-training quantisation (ONNX Runtime's QDQ format: int8 weights per channel, uint8
activations, MinMax ranges) calibrated on the recogniser inputs that the pipeline itself builds
while reading a synthetic corpus of training seed ``--seed`` (scans and camera captures of every
template generation). Evaluation uses other, fresh seeds: nothing here looks at them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.ocr.quantize import CALIBRATION_SEED, QuantChoices, build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for the model and its build record")
    ap.add_argument("--seed", type=int, default=CALIBRATION_SEED, help="calibration corpus seed")
    ap.add_argument("--docs", type=int, default=10, help="calibration documents (scans, images)")
    # The variants BENCHMARKS.md compares (issue 15, third part); the defaults are the shipped model.
    ap.add_argument("--no-reduce-range", action="store_true", help="8-bit instead of 7-bit weights")
    ap.add_argument("--float-nodes", default="", help="comma list of node names kept in float")
    ap.add_argument("--op-types", default="", help="comma list of op types to quantise (default: all)")
    ap.add_argument("--calibration", default="minmax", help='"minmax" or "percentile:99.999"')
    ap.add_argument(
        "--inputs-cache", type=Path, help="save the calibration inputs here, or read them if present"
    )
    args = ap.parse_args(argv)
    choices = QuantChoices(
        reduce_range=not args.no_reduce_range,
        exclude=tuple(n for n in args.float_nodes.split(",") if n),
        op_types=tuple(t for t in args.op_types.split(",") if t) or None,
        calibration=args.calibration,
    )
    record = build(
        args.out,
        seed=args.seed,
        docs=args.docs,
        choices=choices,
        inputs_cache=args.inputs_cache,
        log=lambda m: print(m, file=sys.stderr),
    )
    print(
        f"wrote {args.out / record['file']} ({record['bytes'] / 1e6:.1f} MB, sha256 {record['sha256'][:12]}…)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
