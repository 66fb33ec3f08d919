"""Review: correct a cell or a paragraph of the served result; the history of corrections."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from gongkai.server import review
from gongkai.server.api import schemas
from gongkai.server.api.auth import Reviewer, Uploader
from gongkai.server.api.deps import DbDep, MetricsDep
from gongkai.server.api.errors import ApiError
from gongkai.server.api.routes.common import (
    DOC_ID,
    ERRORS,
    RESULT_RESPONSES,
    correction_out,
    load_document,
    served_document,
)
from gongkai.server.storage import repository as repo

router = APIRouter()


@router.patch(
    "/v1/documents/{document_id}/cells/{cell_id}",
    response_model=schemas.CellCorrectionResult,
    responses=RESULT_RESPONSES,
    tags=["review"],
    summary="Correct a cell; the identities are re-evaluated and returned",
)
def correct_cell(
    caller: Reviewer,
    body: schemas.CellCorrection,
    db: DbDep,
    metrics: MetricsDep,
    document_id: str = DOC_ID,
    cell_id: str = PathParam(max_length=120, pattern=r"^[a-z0-9_.]+$"),
) -> Any:
    with db.session() as s:
        doc, before = served_document(s, document_id)  # 404 / 409 first
        if cell_id not in before.result.cells:
            raise ApiError(404, "no_such_cell", f"the {before.result.format} result has no cell {cell_id}")
        try:
            new = review.parse_cell_value(before.result.format, cell_id, body.value)
        except review.BadCorrection as exc:
            raise ApiError(422, "bad_value", str(exc)) from exc
        row, after = review.correct_cell(
            s, doc, before, cell_id, new, reason=body.reason, key_id=caller.key_id
        )
        out = {
            "correction": correction_out(row),
            "cell": after.cell_json(cell_id),
            "checks": after.checks_json(),
            "changed_checks": [c.model_dump() for c in review.check_changes(before, after)],
            "failing_checks": doc.failing_checks or 0,
        }
    metrics.corrections.labels("cell").inc()
    return out


@router.patch(
    "/v1/documents/{document_id}/paragraphs/{n}",
    response_model=schemas.ParagraphCorrectionResult,
    responses=RESULT_RESPONSES,
    tags=["review"],
    summary="Correct paragraph n (1-based, in reading order across sections): its text and/or label",
)
def correct_paragraph(
    caller: Reviewer,
    body: schemas.ParagraphCorrection,
    db: DbDep,
    metrics: MetricsDep,
    document_id: str = DOC_ID,
    n: int = PathParam(ge=1, le=1_000_000),
) -> Any:
    with db.session() as s:
        doc, before = served_document(s, document_id)  # 404 / 409 before the body's 422s
        change = _paragraph_change(body)
        count = len(before.paragraphs())
        if n > count:
            raise ApiError(404, "no_such_paragraph", f"the result has {count} paragraphs; no paragraph {n}")
        row, after = review.correct_paragraph(
            s, doc, before, n, change, reason=body.reason, key_id=caller.key_id
        )
        out = {"correction": correction_out(row), "paragraph": after.paragraph_json(n)}
    metrics.corrections.labels("paragraph").inc()
    return out


def _paragraph_change(body: schemas.ParagraphCorrection) -> review.ParagraphChange:
    fields: dict[str, Any] = {}
    if body.text is not None:
        if not body.text.strip():
            raise ApiError(422, "bad_value", "a paragraph's text cannot be empty")
        fields["text"] = body.text
    if body.clear_label:
        fields["label"] = None
    elif body.label is not None:
        fields["label"] = body.label
    if not fields:
        raise ApiError(422, "bad_value", "give a new text, a label, or clear_label")
    return review.ParagraphChange.model_validate(fields)


@router.get(
    "/v1/documents/{document_id}/history",
    response_model=schemas.HistoryOut,
    responses=ERRORS,
    tags=["review"],
    summary="Every correction: who, when, old, new, why",
)
def get_history(caller: Uploader, db: DbDep, document_id: str = DOC_ID) -> Any:
    with db.session() as s:
        load_document(s, document_id)  # 404 for an unknown document
        rows = repo.history(s, document_id)
        return {"document_id": document_id, "corrections": [correction_out(r) for r in rows]}
