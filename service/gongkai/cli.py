"""Command line entry point ``gongkai``; the subcommands live in ``gongkai.commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from gongkai import commands
from gongkai.errors import GongkaiError

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongkai", description="Read government information disclosure annual reports into checked data."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
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
