"""The served result: the machine result with human corrections applied, marked, and re-checked.

Corrections never overwrite the machine result (it stays in ``results``); every corrected cell or
paragraph carries ``corrected: {by, at, machine_value, …}``, an additive field on the contract.
The identities are re-evaluated with the pipeline's own reconciler, so the semantics (blank counts
as 0 with a note, blank totals inferred, missing inputs make a check not_assessable) stay identical.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from gongkai.pipeline.checks.reconcile import Check, reconcile
from gongkai.pipeline.datamodel import TextSource
from gongkai.pipeline.extract import check_out
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import ParsedNumber, parse_number
from gongkai.pipeline.schema import load_format

PARAGRAPH_LABELS = ("overview", "problems", "improvements", "other_matters")


@dataclass(frozen=True)
class Correction:
    id: int
    target: str  # cell | paragraph
    target_id: str
    new: dict[str, Any]
    reason: str
    by: str
    at: datetime


class BadCorrection(ValueError):
    """The correction cannot apply (unknown cell, a value that is not a number, …)."""


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds") + "Z"


def value_kind(format_id: str, cell_id: str) -> str:
    fmt = load_format(format_id)  # type: ignore[arg-type]
    cell = fmt.cells.get(cell_id)
    return cell.type if cell is not None else "int"


def parse_cell_value(format_id: str, cell_id: str, value: object) -> dict[str, Any]:
    """A reviewer's value → the stored change: {value, raw, blank, note}. Raises BadCorrection."""
    kind = value_kind(format_id, cell_id)
    if value is None:
        return {"value": None, "raw": "", "blank": True, "note": None}
    if isinstance(value, bool):
        raise BadCorrection("a cell value is a number, a string as printed, or null for a blank")
    if isinstance(value, int | float):
        if isinstance(value, float) and value != value:  # NaN
            raise BadCorrection("not a number: NaN")
        text = str(value) if isinstance(value, int) or kind == "decimal" else _float_text(value)
    elif isinstance(value, str):
        text = value
        if len(text) > 200:
            raise BadCorrection("a cell value is at most 200 characters")
    else:
        raise BadCorrection("a cell value is a number, a string as printed, or null for a blank")
    parsed = parse_number(text, kind=kind)
    if parsed.error:
        raise BadCorrection(parsed.error)
    return {
        "value": _json_number(parsed.value),
        "raw": text,
        "blank": parsed.blank,
        "note": parsed.note,
    }


def _float_text(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)


def _json_number(v: int | Decimal | None) -> int | float | None:
    if v is None or isinstance(v, int):
        return v
    return float(v)


def paragraphs(result: dict[str, Any]) -> list[dict[str, Any]]:
    """All paragraphs in reading order; paragraph n (1-based) of the API is index n-1."""
    return [p for s in result.get("sections", []) for p in s.get("paragraphs", [])]


def merge(machine: dict[str, Any], corrections: list[Correction]) -> dict[str, Any]:
    """The served result. ``machine`` is not modified."""
    out = copy.deepcopy(machine)
    if not corrections:
        return out
    machine_cells = machine.get("cells", {})
    paras = paragraphs(out)
    machine_paras = paragraphs(machine)
    cell_changed = False
    for c in sorted(corrections, key=lambda c: (c.at, c.id)):
        mark = {"by": c.by, "at": iso(c.at), "reason": c.reason, "correction_id": c.id}
        if c.target == "cell":
            cell = out["cells"].get(c.target_id)
            if cell is None:
                continue  # the machine result was replaced by one without this cell
            orig = machine_cells[c.target_id]
            cell.update(
                value=c.new.get("value"),
                raw=c.new.get("raw"),
                blank=bool(c.new.get("blank")),
                note=c.new.get("note"),
                missing=False,
                inferred=False,
                inferred_value=None,
                repaired_by=None,
                confidence=1.0,  # a person read it
            )
            cell["corrected"] = {**mark, "machine_value": orig.get("value"), "machine_raw": orig.get("raw")}
            cell_changed = True
        elif c.target == "paragraph":
            n = int(c.target_id)
            if not 1 <= n <= len(paras):
                continue
            para, orig = paras[n - 1], machine_paras[n - 1]
            if "text" in c.new:
                para["text"] = c.new["text"]
            if "label" in c.new:
                para["label"] = c.new["label"]
                para["confidence"] = 1.0
            para["corrected"] = {**mark, "machine_text": orig.get("text"), "machine_label": orig.get("label")}
    if cell_changed:
        recheck(out)
    return out


def _reading(cell_id: str, cell: dict[str, Any], kind: str) -> CellReading:
    raw = cell.get("raw") or ""
    blank = bool(cell.get("blank"))
    value: int | Decimal | None = None
    if not blank and cell.get("value") is not None:
        v = cell["value"]
        value = Decimal(str(v)) if kind == "decimal" or isinstance(v, float) else int(v)
    error = None if blank or value is not None else f"not a number: {raw.strip()!r}"
    source = cell.get("source") or TextSource.TEXT_LAYER.value
    return CellReading(
        cell_id=cell_id,
        raw=raw,
        # An inferred total was printed blank: it goes back in blank and is inferred again.
        parsed=ParsedNumber(value, raw, blank=blank, note=cell.get("note"), error=error),
        page=cell.get("page"),
        bbox=tuple(cell["bbox"]) if cell.get("bbox") else None,  # type: ignore[arg-type]
        source=TextSource(source),
        match=1.0,
    )


def recheck(result: dict[str, Any]) -> None:
    """Re-evaluate the identities over the result's current cells, in place."""
    fmt = load_format(result["format"])
    mapping = MappingResult()
    for cid, cell in result["cells"].items():
        if cell.get("missing"):
            continue
        kind = fmt.cells[cid].type if cid in fmt.cells else "int"
        mapping.add(_reading(cid, cell, kind), extra=not cell.get("statutory", True))
    rec = reconcile(fmt, mapping)
    for cid, st in rec.cells.items():
        cell = result["cells"].get(cid)
        if cell is None or "corrected" in cell:
            continue
        if cell.get("blank"):
            # As in the pipeline: a printed blank stays null; an inferred total goes beside it.
            cell["inferred"] = st.inferred
            cell["inferred_value"] = _json_number(st.value) if st.inferred else None
            cell["value"] = None
    soft = [c for c in result.get("checks", []) if c.get("kind") == "soft"]
    result["checks"] = [_check_json(c) for c in rec.checks] + soft


def _check_json(c: Check) -> dict[str, Any]:
    return check_out(c).model_dump(mode="json")


def failing_count(result: dict[str, Any]) -> int:
    return sum(1 for c in result.get("checks", []) if c.get("status") == "fail")


def check_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks whose status changed between two served results."""
    old = {c["id"]: c["status"] for c in before.get("checks", [])}
    return [
        {"id": c["id"], "before": old.get(c["id"]), "after": c["status"]}
        for c in after.get("checks", [])
        if old.get(c["id"]) != c["status"]
    ]
