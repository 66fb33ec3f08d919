"""``gongkai evaluate CORPUS_DIR …``: run the pipeline on documents with known truth and score it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gongkai.devtools.evaluation.discovery import Item
    from gongkai.devtools.evaluation.runner import Outcome

KINDS = ("pdf", "scan_pdf", "image", "html", "docx")


def _kinds(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(KINDS)}")
    return kinds


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _workers(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (in this process) or more")
    return value


def register(sub: Any) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="score the pipeline on corpora with truth files (one table per input kind)",
        description=(
            "Finds every *.truth.json (or hand-made truth *.json) under the folders, extracts each "
            "document and prints one table per input kind plus a total row. Failures are recorded "
            "per document; the run itself never stops on one."
        ),
    )
    ev.add_argument("corpora", nargs="+", metavar="CORPUS_DIR", help="folders holding truth files")
    ev.add_argument("--json", metavar="OUT.json", help="also write every number (and per-document details)")
    ev.add_argument("--limit", type=_positive, help="evaluate at most N documents, round-robin over kinds")
    ev.add_argument(
        "--kinds", type=_kinds, help="only these input kinds, comma-separated (pdf,scan_pdf,image,html,docx)"
    )
    ev.add_argument(
        "--workers",
        type=_workers,
        default=2,
        help="worker processes (default 2; 1 for clean timing; 0 runs in this process without isolation)",
    )
    ev.add_argument(
        "--documents-dir",
        metavar="DIR",
        help="where documents named by truth files live when not beside them "
        "(default: ../shared/corpus/real or $GONGKAI_SHARED_DIR/corpus/real)",
    )
    ev.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="give up on a document after this long (failed)"
    )
    ev.add_argument(
        "--no-warmup",
        action="store_true",
        help="do not extract one document untimed in each worker first (lazy model loading is then timed)",
    )
    ev.add_argument("--worst", type=int, default=10, help="list the N cells most often wrong (0: none)")
    ev.add_argument("-q", "--quiet", action="store_true", help="no per-document progress on stderr")
    ev.set_defaults(func=run)


def _progress(done: int, total: int, item: Item, outcome: Outcome) -> None:
    status = "ok" if outcome.result is not None else f"FAILED {outcome.error_type}: {outcome.error}"
    sys.stderr.write(f"[{done}/{total}] {item.truth.kind:8} {item.name}  {outcome.seconds:.2f} s  {status}\n")


def run(args: argparse.Namespace) -> int:
    from gongkai.devtools.evaluation import evaluate
    from gongkai.devtools.evaluation.report import render_tables, worst_cells

    report = evaluate(
        args.corpora,
        documents_dir=args.documents_dir,
        kinds=args.kinds,
        limit=args.limit,
        workers=args.workers,
        timeout=args.timeout,
        warm=not args.no_warmup,
        progress=None if args.quiet else _progress,
    )
    text = render_tables(report)
    worst = worst_cells(report, args.worst) if args.worst > 0 else []
    if worst:
        lines = ["", "cells most often wrong (cell: times; truth → extracted in example documents):"]
        for cell, count, examples, docs in worst:
            shown = "; ".join(
                f"{doc}: {wc.truth} → {wc.extracted}" for wc, doc in zip(examples, docs, strict=True)
            )
            lines.append(f"  {cell}: {count}; {shown}")
        text += "\n" + "\n".join(lines)
    sys.stdout.write(text + "\n")
    if args.json:
        options = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
        data = report.to_json(options)
        Path(args.json).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0
