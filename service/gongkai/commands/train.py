"""``gongkai train-classifier``: retrain the narrative classifiers (needs the ``training`` extra)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    tr = sub.add_parser(
        "train-classifier",
        help="train the narrative classifiers (char-BERT → ONNX, and the TF-IDF baseline)",
    )
    tr.add_argument("--out", default="models", help="models directory to write (default: models)")
    tr.add_argument("--tiny", action="store_true", help="a tiny smoke run on a subset")
    tr.add_argument("--base-model", help="fine-tune this local pretrained model directory instead")
    tr.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import importlib

    try:
        # Imported by name: training/ is a source-checkout tool, not part of the installed service.
        main = importlib.import_module("training.narrative.__main__").main
    except ImportError as exc:
        sys.stderr.write(
            f"gongkai: training needs the training extra and a source checkout "
            f"(pip install -e '.[nlp,training]'): {exc}\n"
        )
        return 2
    argv = ["--out", args.out]
    if args.tiny:
        argv.append("--tiny")
    if args.base_model:
        argv += ["--base-model", args.base_model]
    return int(main(argv))
