"""Command line: ``gongkai extract FILE [--format json|markdown] [-o OUT]`` and friends."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.errors import GongkaiError
from service.ingest import DEFAULT_MAX_BYTES

EXIT_BAD_INPUT = 2
EXIT_FAILING_CHECKS = 0  # failing identities are findings, not a crash: see --strict


def _extract(args: argparse.Namespace) -> int:
    from service.markdown import render_markdown
    from service.pipeline import extract_path

    result = extract_path(args.file, max_bytes=args.max_bytes)
    text = result.to_json() if args.format == "json" else render_markdown(result)
    if args.output:
        Path(args.output).write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if args.strict and result.failing_checks():
        return 1
    return 0


def _schema(args: argparse.Namespace) -> int:
    from service.result import json_schema

    sys.stdout.write(json.dumps(json_schema(), ensure_ascii=False, indent=1) + "\n")
    return 0


def _cells(args: argparse.Namespace) -> int:
    from service.schema import load_format

    fmt = load_format(args.report_format)
    for cell in fmt.cells.values():
        sys.stdout.write(f"{cell.id}\t{cell.row}\t{cell.column}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongkai", description="Read government information disclosure annual reports into checked data."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="extract one PDF, HTML or DOCX report")
    ex.add_argument("file", help="the report (PDF with a text layer, HTML page or DOCX)")
    ex.add_argument(
        "--format", choices=("json", "markdown"), default="json", help="output format (default json)"
    )
    ex.add_argument("-o", "--output", help="write to this file instead of stdout")
    ex.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="refuse larger files")
    ex.add_argument("--strict", action="store_true", help="exit 1 when an identity check fails")
    ex.set_defaults(func=_extract)
    sc = sub.add_parser("schema", help="print the JSON Schema of the result contract")
    sc.set_defaults(func=_schema)
    ce = sub.add_parser("cells", help="list the statutory cell ids of a format")
    ce.add_argument("report_format", choices=("2021", "2019"), nargs="?", default="2021")
    ce.set_defaults(func=_cells)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GongkaiError as exc:
        sys.stderr.write(f"gongkai: {exc}\n")
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
