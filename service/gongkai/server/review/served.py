"""The served result: the machine result with reviewer corrections applied, marked, and re-checked.

Corrections never overwrite the machine result (it stays in ``results``); every corrected cell or
paragraph is served with ``corrected: {by, at, …, machine_value | machine_text, …}``, an additive
field on the contract. The identities are re-evaluated with the pipeline's own reconciler, so the
semantics (blank counts as 0 with a note, blank totals inferred, missing inputs make a check
not_assessable) stay identical.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel

from gongkai.pipeline.checks import check_out
from gongkai.pipeline.checks.reconcile import reconcile
from gongkai.pipeline.datamodel import BBox, TextSource
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import ParsedNumber
from gongkai.pipeline.result import (
    CellOut,
    CheckStatus,
    ExtractionResult,
    Number,
    ParagraphLabel,
    ParagraphOut,
)
from gongkai.pipeline.schema import load_format
from gongkai.server.review.corrections import CellChange, Correction
from gongkai.server.storage.models import iso


class CorrectionMark(BaseModel):
    by: str
    at: str
    reason: str
    correction_id: int


class CellMark(CorrectionMark):
    machine_value: Number | None
    machine_raw: str | None


class ParagraphMark(CorrectionMark):
    machine_text: str
    machine_label: ParagraphLabel | None


class CheckChange(BaseModel):
    id: str
    before: CheckStatus | None
    after: CheckStatus


@dataclass
class ServedResult:
    """A result as served: ``result`` has the corrections applied and its identities re-checked;
    the marks say which cells (by id) and paragraphs (by number, 1-based) a person corrected."""

    result: ExtractionResult
    cell_marks: dict[str, CellMark] = field(default_factory=dict)
    paragraph_marks: dict[int, ParagraphMark] = field(default_factory=dict)

    def paragraphs(self) -> list[ParagraphOut]:
        return paragraphs(self.result)

    def failing_count(self) -> int:
        return len(self.result.failing_checks())

    def review_count(self) -> int:
        """Cells a person should look at: flagged by the pipeline and not corrected since."""
        return sum(1 for c in self.result.cells.values() if c.review)

    def cell_json(self, cell_id: str) -> dict[str, Any]:
        data = self.result.cells[cell_id].model_dump(mode="json")
        if cell_id in self.cell_marks:
            data["corrected"] = self.cell_marks[cell_id].model_dump(mode="json")
        return data

    def paragraph_json(self, n: int) -> dict[str, Any]:
        data = self.paragraphs()[n - 1].model_dump(mode="json")
        if n in self.paragraph_marks:
            data["corrected"] = self.paragraph_marks[n].model_dump(mode="json")
        return data

    def checks_json(self) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in self.result.checks]

    def to_json(self) -> dict[str, Any]:
        """The served result as the API gives it: the result contract plus the ``corrected`` marks."""
        data = self.result.model_dump(mode="json")
        for cell_id, cell_mark in self.cell_marks.items():
            data["cells"][cell_id]["corrected"] = cell_mark.model_dump(mode="json")
        paras = [p for s in data["sections"] for p in s["paragraphs"]]
        for n, para_mark in self.paragraph_marks.items():
            paras[n - 1]["corrected"] = para_mark.model_dump(mode="json")
        return data


def paragraphs(result: ExtractionResult) -> list[ParagraphOut]:
    """All paragraphs in reading order; paragraph n (1-based) of the API is index n-1."""
    return [p for s in result.sections for p in s.paragraphs]


def failing_count(served: ServedResult) -> int:
    return served.failing_count()


def merge(machine: ExtractionResult, corrections: Sequence[Correction]) -> ServedResult:
    """The served result: the latest correction per target wins. ``machine`` is not modified."""
    served = ServedResult(machine.model_copy(deep=True))
    if not corrections:
        return served
    out = served.result
    paras, machine_paras = paragraphs(out), paragraphs(machine)
    for c in sorted(corrections, key=lambda c: (c.at, c.id)):
        if isinstance(c.change, CellChange):
            cell = out.cells.get(c.target_id)
            if cell is None:
                continue  # the machine result was replaced by one without this cell
            orig, new = machine.cells[c.target_id], c.change
            cell.value, cell.raw, cell.blank, cell.note = new.value, new.raw, new.blank, new.note
            cell.missing = cell.inferred = False
            cell.inferred_value = cell.repaired_by = None
            cell.confidence = 1.0  # a person read it
            cell.review, cell.review_reason = False, None  # …so it no longer waits for review
            served.cell_marks[c.target_id] = CellMark(
                **_marked(c), machine_value=orig.value, machine_raw=orig.raw
            )
        else:
            n = int(c.target_id)
            if not 1 <= n <= len(paras):
                continue
            para, orig_para = paras[n - 1], machine_paras[n - 1]
            if c.change.sets_text and c.change.text is not None:
                para.text = c.change.text
            if c.change.sets_label:
                para.label = c.change.label
                para.confidence = 1.0
            served.paragraph_marks[n] = ParagraphMark(
                **_marked(c), machine_text=orig_para.text, machine_label=orig_para.label
            )
    if served.cell_marks:
        recheck(out, corrected=served.cell_marks)
    return served


def _marked(c: Correction) -> dict[str, Any]:
    return CorrectionMark(by=c.by, at=iso(c.at), reason=c.reason, correction_id=c.id).model_dump()


def _reading(cell_id: str, cell: CellOut, kind: str) -> CellReading:
    raw = cell.raw or ""
    blank = cell.blank
    value: int | Decimal | None = None
    if not blank and cell.value is not None:
        v = cell.value
        if isinstance(v, Decimal):
            # Stored as a JSON float: read from the float's text, as the checks always have.
            value = Decimal(str(float(v)))
        else:
            value = Decimal(str(v)) if kind == "decimal" else int(v)
    error = None if blank or value is not None else f"not a number: {raw.strip()!r}"
    return CellReading(
        cell_id=cell_id,
        raw=raw,
        # An inferred total was printed blank: it goes back in blank and is inferred again.
        parsed=ParsedNumber(value, raw, blank=blank, note=cell.note, error=error),
        page=cell.page,
        bbox=cast(BBox, tuple(cell.bbox)) if cell.bbox else None,
        source=TextSource(cell.source or TextSource.TEXT_LAYER.value),
        match=1.0,
    )


def recheck(result: ExtractionResult, corrected: Collection[str] = ()) -> None:
    """Re-evaluate the identities over the result's current cells, in place. The cells in
    ``corrected`` keep what the reviewer gave; blank cells get their inferred totals again."""
    fmt = load_format(result.format)
    mapping = MappingResult()
    for cid, cell in result.cells.items():
        if cell.missing:
            continue
        kind = fmt.cells[cid].type if cid in fmt.cells else "int"
        mapping.add(_reading(cid, cell, kind), extra=not cell.statutory)
    rec = reconcile(fmt, mapping)
    for cid, st in rec.cells.items():
        target = result.cells.get(cid)
        if target is None or cid in corrected:
            continue
        if target.blank:
            # As in the pipeline: a printed blank stays null; an inferred total goes beside it.
            target.inferred = st.inferred
            target.inferred_value = st.value if st.inferred else None
            target.value = None
    soft = [c for c in result.checks if c.kind == "soft"]
    result.checks = [check_out(c) for c in rec.checks] + soft


def check_changes(before: ServedResult, after: ServedResult) -> list[CheckChange]:
    """Checks whose status changed between two served results."""
    old = {c.id: c.status for c in before.result.checks}
    return [
        CheckChange(id=c.id, before=old.get(c.id), after=c.status)
        for c in after.result.checks
        if old.get(c.id) != c.status
    ]
