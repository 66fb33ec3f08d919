"""The review workflow on a database session. Storage keeps rows and JSON; here they become typed
results and corrections, corrections are applied, and the document's failing count follows them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gongkai.pipeline.result import ExtractionResult, ParagraphOut
from gongkai.server.review.corrections import CellChange, Correction, ParagraphChange, Target
from gongkai.server.review.served import ServedResult, merge
from gongkai.server.storage import repository as repo
from gongkai.server.storage.models import CorrectionRow, DocumentRow


def machine_result(s: Session, document_id: str) -> ExtractionResult | None:
    text = repo.machine_result_json(s, document_id)
    # From the JSON text, not json.loads: a float such as 3.0 stays a Decimal and is served as 3.0.
    return None if text is None else ExtractionResult.model_validate_json(text)


def correction(row: CorrectionRow) -> Correction | None:
    """A stored correction, typed; None for a target this version does not know (none is written)."""
    change: CellChange | ParagraphChange
    if row.target == "cell":
        change = CellChange.model_validate_json(row.new_json)
    elif row.target == "paragraph":
        change = ParagraphChange.model_validate_json(row.new_json)
    else:
        return None
    return Correction(
        id=row.id, target_id=row.target_id, change=change, reason=row.reason, by=row.key_id, at=row.created_at
    )


def served_result(s: Session, document_id: str) -> ServedResult | None:
    """The document's result with its corrections applied; None while no result is stored."""
    machine = machine_result(s, document_id)
    if machine is None:
        return None
    typed = (correction(row) for row in repo.corrections(s, document_id))
    return merge(machine, [c for c in typed if c is not None])


def require_served_result(s: Session, document_id: str) -> ServedResult:
    """The served result of a document whose result is known to be stored."""
    served = served_result(s, document_id)
    if served is None:
        raise RuntimeError(f"document {document_id} has no stored result")
    return served


def etag(s: Session, document_id: str) -> str:
    """The document's revision as an HTTP entity tag: the id of its latest correction, quoted ("0"
    while it has none). Any recorded correction makes a new one; one that changes nothing does not."""
    return f'"{repo.latest_correction_id(s, document_id) or 0}"'


def has_corrections(s: Session, document_id: str) -> bool:
    return repo.latest_correction_id(s, document_id) is not None


def correct_cell(
    s: Session,
    doc: DocumentRow,
    before: ServedResult,
    cell_id: str,
    new: CellChange,
    *,
    reason: str,
    key_id: str,
) -> tuple[CorrectionRow, ServedResult]:
    """Store a cell correction; the new served result (identities re-checked) comes back with it.

    A correction that changes nothing — the value (blank, note) a person already set — is not
    recorded: the correction in effect and the served result as it is come back instead.
    """
    old = CellChange.of(before.result.cells[cell_id])
    mark = before.cell_marks.get(cell_id)
    if mark is not None and (old.value, old.blank, old.note) == (new.value, new.blank, new.note):
        return _in_effect(s, mark.correction_id), before
    return _record(s, doc, "cell", cell_id, old.as_json(), new.as_json(), reason, key_id)


def correct_paragraph(
    s: Session,
    doc: DocumentRow,
    before: ServedResult,
    n: int,
    change: ParagraphChange,
    *,
    reason: str,
    key_id: str,
) -> tuple[CorrectionRow, ServedResult]:
    """Store a correction of paragraph n (1-based, reading order) and return the new served result.

    As for cells, a change to what a person already set (same text, same confirmed label) is not
    recorded; the correction in effect comes back with the served result as it is.
    """
    current = before.paragraphs()[n - 1]
    mark = before.paragraph_marks.get(n)
    if mark is not None and _unchanged(current, change):
        return _in_effect(s, mark.correction_id), before
    old = change.replaced_in(current)
    return _record(s, doc, "paragraph", str(n), old.as_json(), change.as_json(), reason, key_id)


def _unchanged(current: ParagraphOut, change: ParagraphChange) -> bool:
    if change.sets_text and change.text != current.text:
        return False
    # A label a person set has confidence 1.0; sending the machine's label again confirms it.
    return not change.sets_label or (change.label == current.label and current.confidence == 1.0)


def _in_effect(s: Session, correction_id: int) -> CorrectionRow:
    row = s.get(CorrectionRow, correction_id)
    if row is None:  # the marks come from these rows, read in this session
        raise RuntimeError(f"correction {correction_id} is not stored")
    return row


def _record(
    s: Session,
    doc: DocumentRow,
    target: Target,
    target_id: str,
    old: dict[str, object],
    new: dict[str, object],
    reason: str,
    key_id: str,
) -> tuple[CorrectionRow, ServedResult]:
    row = repo.add_correction(
        s, doc, target=target, target_id=target_id, old=old, new=new, reason=reason, key_id=key_id
    )
    served = require_served_result(s, doc.id)
    repo.set_failing_checks(doc, served.failing_count(), served.review_count())
    return row, served
