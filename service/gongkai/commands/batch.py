"""``gongkai batch SOURCE… --out DIR``: a folder, file list or archive of reports into a checked dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return value

    return parse


def register(sub: Any) -> None:
    b = sub.add_parser(
        "batch",
        help="process a folder, file list or archive of reports into a dataset (resumable)",
        description=(
            "Walk folders, file lists (@list.txt) and archives (zip, tar.*, 7z, nested), extract every "
            "distinct report once in worker processes with a timeout and a memory cap, and write "
            "results/, documents/cells/checks (.csv, .parquet), review.csv and summary.html to DIR. "
            "Running the same command again continues where it stopped."
        ),
    )
    b.add_argument("sources", nargs="+", metavar="SOURCE", help="folder, archive, file, or @file-list")
    b.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="output folder (holds the manifest)"
    )
    b.add_argument("--workers", type=_positive(int), default=1, help="worker processes (default 1)")
    b.add_argument(
        "--timeout",
        type=_positive(float),
        default=600.0,
        help="seconds per document before it is stopped (600)",
    )
    b.add_argument(
        "--memory-mb", type=_positive(int), default=4096, help="address-space cap per worker in MiB (4096)"
    )
    b.add_argument(
        "--broker",
        metavar="URL",
        help="send documents to the Celery workers of `gongkai worker` on this Redis URL "
        "(then --workers is the number of documents in flight)",
    )
    b.add_argument(
        "--report-timeout",
        type=_positive(float),
        help="with --broker: send a document again when no worker reported back in this many seconds "
        "(default: --timeout + 120)",
    )
    b.add_argument("--retry-failed", action="store_true", help="run documents that failed before again")
    b.add_argument("--max-depth", type=_positive(int), default=4, help="deepest archive nesting read (4)")
    b.add_argument(
        "--no-count", dest="count_first", action="store_false", help="skip listing the sources first"
    )
    shown = b.add_mutually_exclusive_group()
    shown.add_argument("--json-progress", action="store_true", help="one JSON line per event on stdout")
    shown.add_argument("--quiet", action="store_true", help="print nothing but errors")
    pipe = b.add_argument_group("pipeline options (default: the GONGKAI_* environment variables)")
    pipe.add_argument("--no-ocr", dest="ocr", action="store_const", const=False, help="never OCR")
    pipe.add_argument(
        "--max-bytes", type=int, help="refuse larger files (default: GONGKAI_MAX_BYTES, 100 MiB)"
    )
    pipe.add_argument("--models-dir", type=Path, help="the narrative classifier's folder")
    # For tests and experiments: the function a worker runs per document ("module:function").
    b.add_argument("--processor", default="gongkai.batch.worker:process_document", help=argparse.SUPPRESS)
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gongkai.batch.progress import make_reporter
    from gongkai.batch.runner import BatchConfig, run_batch
    from gongkai.errors import GongkaiError
    from gongkai.settings import PipelineOptions

    options = PipelineOptions.from_env(ocr=args.ocr, max_bytes=args.max_bytes, models_dir=args.models_dir)
    config = BatchConfig(
        sources=args.sources,
        out_dir=args.out,
        workers=args.workers,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        retry_failed=args.retry_failed,
        options=options,
        max_depth=args.max_depth,
        count_first=args.count_first,
        processor=args.processor,
        broker_url=args.broker,
        report_timeout=args.report_timeout,
        argv=["gongkai", *sys.argv[1:]],
    )
    mode = "json" if args.json_progress else "quiet" if args.quiet else "rich"
    reporter = make_reporter(mode)
    try:
        run_batch(config, reporter)
    except GongkaiError:
        reporter.close()  # leave the terminal clean; the CLI prints the one-line reason
        raise
    except KeyboardInterrupt:
        reporter.close()
        sys.stderr.write("gongkai batch: interrupted; run the same command again to continue\n")
        return 130
    return 0
