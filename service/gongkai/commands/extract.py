"""``gongkai extract FILE``: one report in, the result contract (or a Markdown view) out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gongkai.pipeline.ingest import DEFAULT_MAX_BYTES


def register(sub: Any) -> None:
    ex = sub.add_parser("extract", help="extract one PDF, HTML or DOCX report")
    ex.add_argument("file", help="the report (PDF with a text layer, HTML page or DOCX)")
    ex.add_argument(
        "--format", choices=("json", "markdown"), default="json", help="output format (default json)"
    )
    ex.add_argument("-o", "--output", help="write to this file instead of stdout")
    ex.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="refuse larger files")
    ex.add_argument("--strict", action="store_true", help="exit 1 when an identity check fails")
    ex.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gongkai.pipeline.extract import extract_path
    from gongkai.pipeline.markdown import render_markdown

    result = extract_path(args.file, max_bytes=args.max_bytes)
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
