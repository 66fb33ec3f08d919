"""Command line entry point ``gongkai``; the subcommands live in ``gongkai.commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from gongkai import commands
from gongkai.errors import GongkaiError

EXIT_BAD_INPUT = 2


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with ``only`` that one (a known command name): a single
    run then imports just its own command module, not the server's or the trainer's."""
    parser = argparse.ArgumentParser(
        prog="gongkai", description="Read government information disclosure annual reports into checked data."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
    for name in [only] if only in names else names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The first word names the command (no global options come before it); anything else (--help, a
    # typo) gets the full parser and its list of commands.
    only = argv[0] if argv and not argv[0].startswith("-") else None
    args = build_parser(only).parse_args(argv)
    try:
        return int(args.func(args))
    except GongkaiError as exc:
        sys.stderr.write(f"gongkai: {exc}\n")
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
