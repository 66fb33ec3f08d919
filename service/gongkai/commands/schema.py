"""``gongkai schema`` and ``gongkai cells``: the result contract's JSON Schema, the statutory cell ids."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    sc = sub.add_parser("schema", help="print the JSON Schema of the result contract")
    sc.set_defaults(func=run_schema)
    ce = sub.add_parser("cells", help="list the statutory cell ids of a format")
    ce.add_argument("report_format", choices=("2021", "2019"), nargs="?", default="2021")
    ce.set_defaults(func=run_cells)


def run_schema(args: argparse.Namespace) -> int:
    from gongkai.pipeline.result import json_schema

    sys.stdout.write(json.dumps(json_schema(), ensure_ascii=False, indent=1) + "\n")
    return 0


def run_cells(args: argparse.Namespace) -> int:
    from gongkai.pipeline.schema import load_format

    fmt = load_format(args.report_format)
    for cell in fmt.cells.values():
        sys.stdout.write(f"{cell.id}\t{cell.row}\t{cell.column}\n")
    return 0
