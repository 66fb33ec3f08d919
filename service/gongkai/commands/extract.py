"""``gongkai extract FILE``: one report in, the result contract (or a Markdown view) out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args

from gongkai.settings import OcrEngineName, PipelineOptions, SecondEngineChoice


def register(sub: Any) -> None:
    ex = sub.add_parser("extract", help="extract one PDF, HTML or DOCX report")
    ex.add_argument("file", help="the report (PDF with a text layer, HTML page or DOCX)")
    ex.add_argument(
        "--format", choices=("json", "markdown"), default="json", help="output format (default json)"
    )
    ex.add_argument("-o", "--output", help="write to this file instead of stdout")
    ex.add_argument("--max-bytes", type=int, help="refuse larger files (default: GONGKAI_MAX_BYTES, 100 MiB)")
    ex.add_argument("--strict", action="store_true", help="exit 1 when an identity check fails")
    # Pipeline options: each flag left out keeps the value from the environment (GONGKAI_*).
    pipe = ex.add_argument_group("pipeline options (default: the GONGKAI_* environment variables)")
    pipe.add_argument("--ocr-engine", choices=get_args(OcrEngineName), help="the engine that reads scans")
    pipe.add_argument(
        "--ocr-second-engine",
        choices=get_args(SecondEngineChoice),
        help="the engine that re-reads doubtful numeric cells (auto: the other one)",
    )
    pipe.add_argument("--no-ocr", dest="ocr", action="store_const", const=False, help="never OCR")
    pipe.add_argument("--ocr-workers", type=int, metavar="N", help="processes reading a document's pages")
    pipe.add_argument("--ocr-threads", type=int, metavar="N", help="ONNX Runtime threads of a single process")
    pipe.add_argument(
        "--no-layout-model",
        dest="layout_model",
        action="store_const",
        const=False,
        help="skip the CDLA layout model on OCR pages",
    )
    pipe.add_argument("--models-dir", type=Path, help="the narrative classifier's folder")
    ex.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> PipelineOptions:
    """The environment's pipeline options with the flags that were given on top."""
    return PipelineOptions.from_env(
        ocr=args.ocr,
        ocr_engine=args.ocr_engine,
        ocr_second_engine=args.ocr_second_engine,
        ocr_workers=args.ocr_workers,
        ocr_threads=args.ocr_threads,
        layout_model=args.layout_model,
        models_dir=args.models_dir,
        max_bytes=args.max_bytes,
    )


def run(args: argparse.Namespace) -> int:
    from gongkai.pipeline.extract import extract_path
    from gongkai.pipeline.markdown import render_markdown

    result = extract_path(args.file, options=options_from_args(args))
    text = result.to_json() if args.format == "json" else render_markdown(result)
    if not text.endswith("\n"):
        text += "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    # Failing identities are findings, not a crash: only --strict turns them into an exit status.
    if args.strict and result.failing_checks():
        return 1
    return 0
