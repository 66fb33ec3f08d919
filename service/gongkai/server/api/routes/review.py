"""Review: correct a cell or a paragraph of the served result; the history of corrections."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Response
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

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
    document_out,
    load_document,
    served_document,
)
from gongkai.server.review import workflow
from gongkai.server.storage import repository as repo
from gongkai.server.storage.models import DocumentRow

router = APIRouter()

ETAG_HEADER = {"ETag": {"description": "The document's revision, for If-Match", "schema": {"type": "string"}}}
CORRECTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The correction and its effect", "headers": ETAG_HEADER},
    412: {
        "model": schemas.ErrorBody,
        "description": "If-Match is not the document's current ETag: someone changed it since; the body "
        "has the current `etag` and the target's current value",
    },
    428: {
        "model": schemas.ErrorBody,
        "description": "If-Match is missing, and the document has corrections since it was processed",
    },
    **RESULT_RESPONSES,
}
IF_MATCH = Header(
    None,
    alias="If-Match",
    description="The ETag of the result the change was made against (GET …/result, or the last correction). "
    "Required once the document has corrections.",
    max_length=1000,
)


@router.patch(
    "/v1/documents/{document_id}/cells/{cell_id}",
    response_model=schemas.CellCorrectionResult,
    responses=CORRECTION_RESPONSES,
    tags=["review"],
    summary="Correct a cell; the identities are re-evaluated and returned",
)
def correct_cell(
    caller: Reviewer,
    body: schemas.CellCorrection,
    db: DbDep,
    metrics: MetricsDep,
    response: Response,
    document_id: str = DOC_ID,
    cell_id: str = PathParam(max_length=120, pattern=r"^[a-z0-9_.]+$"),
    if_match: str | None = IF_MATCH,
) -> Any:
    with db.session() as s:
        repo.lock_document(s, document_id)  # held to the commit: the check below and the write are one
        doc, before = served_document(s, document_id, caller)  # 404 / 409 first
        if cell_id not in before.result.cells:
            raise ApiError(404, "no_such_cell", f"the {before.result.format} result has no cell {cell_id}")
        _precondition(s, doc, if_match, cell=before.cell_json(cell_id))
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
        response.headers["ETag"] = workflow.etag(s, doc.id)
    metrics.corrections.labels("cell").inc()
    return out


@router.patch(
    "/v1/documents/{document_id}/paragraphs/{n}",
    response_model=schemas.ParagraphCorrectionResult,
    responses=CORRECTION_RESPONSES,
    tags=["review"],
    summary="Correct paragraph n (1-based, in reading order across sections): its text and/or label",
)
def correct_paragraph(
    caller: Reviewer,
    body: schemas.ParagraphCorrection,
    db: DbDep,
    metrics: MetricsDep,
    response: Response,
    document_id: str = DOC_ID,
    n: int = PathParam(ge=1, le=1_000_000),
    if_match: str | None = IF_MATCH,
) -> Any:
    with db.session() as s:
        repo.lock_document(s, document_id)  # held to the commit: the check below and the write are one
        # 404 / 409, then 412 / 428, before the body's 422s
        doc, before = served_document(s, document_id, caller)
        count = len(before.paragraphs())
        if n > count:
            raise ApiError(404, "no_such_paragraph", f"the result has {count} paragraphs; no paragraph {n}")
        _precondition(s, doc, if_match, paragraph=before.paragraph_json(n))
        change = _paragraph_change(body)
        row, after = review.correct_paragraph(
            s, doc, before, n, change, reason=body.reason, key_id=caller.key_id
        )
        out = {"correction": correction_out(row), "paragraph": after.paragraph_json(n)}
        response.headers["ETag"] = workflow.etag(s, doc.id)
    metrics.corrections.labels("paragraph").inc()
    return out


def _precondition(s: Session, doc: DocumentRow, if_match: str | None, **current: Any) -> None:
    """412 when If-Match is not the current ETag, 428 when it is missing and the document has been
    corrected since it was processed. Run under the document's lock, so nobody writes in between."""
    etag = workflow.etag(s, doc.id)
    if if_match is None:
        if workflow.has_corrections(s, doc.id):
            raise ApiError(
                428,
                "precondition_required",
                "the document has corrections: send If-Match with the ETag of the result you changed",
                etag=etag,
                **current,
            )
        return
    if not _matches(if_match, etag):
        raise ApiError(
            412,
            "precondition_failed",
            f"the document changed since {if_match.strip()}; it is now {etag}: review the current value",
            etag=etag,
            **current,
        )


def _matches(if_match: str, etag: str) -> bool:
    """RFC 9110 If-Match: ``*``, or a list of entity tags compared strongly (a weak W/ tag never matches)."""
    tags = [t.strip() for t in if_match.split(",")]
    return "*" in tags or etag in tags


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


@router.put(
    "/v1/documents/{document_id}/review-state",
    response_model=schemas.DocumentOut,
    responses=ERRORS,
    tags=["review"],
    summary="Mark the document reviewed (by the caller, now), or not reviewed",
)
def set_review_state(
    caller: Reviewer, body: schemas.ReviewState, db: DbDep, document_id: str = DOC_ID
) -> Any:
    with db.session() as s:
        repo.lock_document(s, document_id)
        doc, job = load_document(s, document_id, caller)
        if body.reviewed and doc.status != "done":
            raise ApiError(409, "not_ready", f"the document is {doc.status}; only a result can be reviewed")
        repo.set_reviewed(s, doc, body.reviewed, caller.key_id)
        s.flush()
        return document_out(doc, job)


@router.get(
    "/v1/documents/{document_id}/history",
    response_model=schemas.HistoryOut,
    responses=ERRORS,
    tags=["review"],
    summary="Every correction: who, when, old, new, why",
)
def get_history(caller: Uploader, db: DbDep, document_id: str = DOC_ID) -> Any:
    with db.session() as s:
        load_document(s, document_id, caller)  # 404 for an unknown document
        rows = repo.history(s, document_id)
        return {"document_id": document_id, "corrections": [correction_out(r) for r in rows]}
