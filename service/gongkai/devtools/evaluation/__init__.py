"""The evaluation harness: run the whole pipeline on documents with known truth and score it.

Every accuracy and speed number Gongkai states comes from here (``gongkai evaluate``). The modules:

- ``discovery``: corpus folders, truth files, manifests, and each truth's document (or why it is skipped);
- ``runner``: each document in a worker process (crash isolation, time, peak memory per document),
  all with one ``PipelineOptions`` built here in the parent;
- ``metrics``: one document scored against its truth, and the pooled numbers per kind and format;
- ``report``: the ``Report``, its JSON and printed tables, the cells most often wrong, the machine.

Nothing here changes the pipeline's output: a wrong cell is reported with the document, the truth
and what was extracted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from gongkai.devtools.evaluation.discovery import INPUT_KINDS, CorpusInfo, Item, discover, select
from gongkai.devtools.evaluation.metrics import (
    DocScore,
    LabelCounts,
    Summary,
    WrongCell,
    cer,
    char_errors,
    extracted_page_text,
    levenshtein,
    levenshtein_rowwise,
    macro_f1,
    match_paragraphs,
    score,
    truth_page_texts,
)
from gongkai.devtools.evaluation.report import Report, machine_info, machine_line, render_tables, worst_cells
from gongkai.devtools.evaluation.runner import Outcome, Progress, ocr_overrides, run_items, run_one
from gongkai.errors import InputError
from gongkai.settings import ENV_PREFIX, PipelineOptions

__all__ = [
    "INPUT_KINDS",
    "CorpusInfo",
    "DocScore",
    "Item",
    "LabelCounts",
    "Outcome",
    "Progress",
    "Report",
    "Summary",
    "WrongCell",
    "cer",
    "char_errors",
    "discover",
    "evaluate",
    "extracted_page_text",
    "levenshtein",
    "levenshtein_rowwise",
    "machine_info",
    "machine_line",
    "macro_f1",
    "match_paragraphs",
    "render_tables",
    "run_items",
    "run_one",
    "score",
    "select",
    "truth_page_texts",
    "worst_cells",
]


def evaluate(
    corpora: Sequence[str | Path],
    *,
    documents_dir: str | Path | None = None,
    kinds: Sequence[str] | None = None,
    limit: int | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    timeout: float | None = None,
    warm: bool = True,
) -> Report:
    """Discover, run and score: the library entry point behind ``gongkai evaluate``."""
    if kinds is not None:
        unknown = sorted(set(kinds) - set(INPUT_KINDS))
        if unknown:
            raise InputError(f"unknown input kind(s) {', '.join(unknown)}; known: {', '.join(INPUT_KINDS)}")
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1")
    items, infos = discover(corpora, documents_dir)
    items = select(items, kinds, limit)
    if not items:
        raise InputError("no documents left to evaluate after the --kinds filter")
    # One set of options for the whole run, from the environment, handed to every worker.
    base = PipelineOptions()
    overrides = ocr_overrides(workers, base)
    options = base.model_copy(update=overrides)
    t0 = time.perf_counter()
    outcomes = run_items(
        items, workers=workers, progress=progress, timeout=timeout, warm=warm, options=options
    )
    scores = [
        score(it, out if it.skip_reason is None else None) for it, out in zip(items, outcomes, strict=True)
    ]
    # Shown by the variable a user sets to choose otherwise, as the report always has.
    shown = {f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in overrides.items()}
    return Report(scores, infos, workers, time.perf_counter() - t0, warm, shown)
