"""``gongkai corpus generate OUT_DIR``: write a synthetic corpus of reports with exact truth files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

_KINDS = ("pdf", "scan_pdf", "image", "html", "docx")
_FORMATS = ("2021", "2019", "legacy")


def _csv(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(x.strip() for x in text.split(",") if x.strip())
        bad = [x for x in items if x not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)} (got {text!r})")
        return items

    return parse


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a fraction in [0, 1]")
    return value


def register(sub: Any) -> None:
    corpus = sub.add_parser("corpus", help="synthetic corpora with exact truth")
    csub = corpus.add_subparsers(dest="corpus_command", required=True)
    gen = csub.add_parser("generate", help="write N synthetic reports and their truth files to OUT_DIR")
    gen.add_argument("out_dir", help="output folder (created if missing)")
    gen.add_argument("--n", type=int, default=200, help="number of documents (default 200)")
    gen.add_argument("--seed", type=int, default=7, help="corpus seed (default 7)")
    gen.add_argument("--kinds", type=_csv(_KINDS), default=_KINDS, help="comma list of " + ",".join(_KINDS))
    gen.add_argument(
        "--formats", type=_csv(_FORMATS), default=_FORMATS, help="comma list of 2021,2019,legacy"
    )
    gen.add_argument(
        "--inject-errors",
        type=_fraction,
        default=0.0,
        help="fraction of 2021/2019 documents with one wrong cell",
    )
    gen.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    gen.add_argument("--dpi", type=int, default=200, help="scan resolution of scan_pdf/image kinds")
    gen.add_argument("--page-files", action="store_true", help="also write <id>.p<N>.png/.jpg page images")
    gen.add_argument(
        "--camera",
        type=_fraction,
        default=0.0,
        help="fraction of scan_pdf/image documents photographed (perspective, surround, light, curl)",
    )
    gen.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    from gongkai.devtools.corpora.synthetic.generate import GenerateConfig, generate

    try:
        config = GenerateConfig(
            out_dir=Path(args.out_dir),
            n=args.n,
            seed=args.seed,
            kinds=args.kinds,
            formats=args.formats,
            inject_errors=args.inject_errors,
            workers=max(1, args.workers),
            dpi=args.dpi,
            page_files=args.page_files,
            camera=args.camera,
        )
    except ValueError as e:
        sys.stderr.write(f"gongkai corpus generate: {e}\n")
        return 2
    start = time.perf_counter()
    manifest = generate(config)
    seconds = time.perf_counter() - start
    counts = manifest["counts"]
    sys.stdout.write(
        f"wrote {manifest['n']} documents to {config.out_dir} in {seconds:.1f} s\n"
        f"  kinds:   {counts['kind']}\n  formats: {counts['format']}\n"
        f"  injected errors: {counts['injected']}\n"
    )
    return 0
