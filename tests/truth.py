"""Compare an extraction with a hand-checked truth file (corpora/real/truth/*.json)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from gongkai.pipeline.result import ExtractionResult

TRUTH_DIR = Path(__file__).resolve().parents[1] / "corpora" / "real" / "truth"


def load_truth(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TRUTH_DIR / name).read_text(encoding="utf-8"))
    return data


def _same(expected: object, got: object) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    return Decimal(str(expected)) == Decimal(str(got))


def cell_mismatches(result: ExtractionResult, cells: dict[str, Any]) -> dict[str, tuple[object, object]]:
    """Cell id → (truth, extracted) for every cell the extraction got wrong (or did not find)."""
    out: dict[str, tuple[object, object]] = {}
    for cid, expected in cells.items():
        got = result.cells.get(cid)
        value = None if got is None else got.value
        if not _same(expected, value):
            out[cid] = (expected, value)
    return out
