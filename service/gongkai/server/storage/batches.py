"""Repository functions of batches (POST /v1/batches) and the per-agency view; beside ``repository``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gongkai.server.storage import repository as repo
from gongkai.server.storage.models import BatchItemRow, BatchRow, DocumentRow, JobRow, utcnow


def create_batch(s: Session, *, filename: str, sha256: str, size: int, key_id: str) -> BatchRow:
    row = BatchRow(
        id=uuid.uuid4().hex, filename=filename, sha256=sha256, size=size, key_id=key_id, created_at=utcnow()
    )
    s.add(row)
    s.flush()
    repo.log_event(s, key_id, "batch.create", None, {"batch": row.id, "sha256": sha256, "size": size})
    return row


def add_item(
    s: Session,
    batch_id: str,
    position: int,
    path: str,
    outcome: str,
    *,
    sha256: str | None = None,
    document_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> BatchItemRow:
    row = BatchItemRow(
        batch_id=batch_id,
        position=position,
        path=path,
        sha256=sha256,
        outcome=outcome,
        document_id=document_id,
        error_code=error_code,
        error_message=error_message,
    )
    s.add(row)
    s.flush()
    return row


def finish_expanding(s: Session, batch_id: str) -> None:
    row = s.get(BatchRow, batch_id)
    if row is not None:
        row.expanded_at = utcnow()


def get_batch(s: Session, batch_id: str) -> BatchRow | None:
    return s.get(BatchRow, batch_id)


def batch_items(s: Session, batch_id: str) -> list[tuple[BatchItemRow, DocumentRow | None, JobRow | None]]:
    """The batch's members in archive order, each with its document and that document's latest job."""
    latest = (
        select(JobRow.document_id, func.max(JobRow.id).label("job_id"))
        .group_by(JobRow.document_id)
        .subquery()
    )
    q = (
        select(BatchItemRow, DocumentRow, JobRow)
        .outerjoin(DocumentRow, DocumentRow.id == BatchItemRow.document_id)
        .outerjoin(latest, latest.c.document_id == BatchItemRow.document_id)
        .outerjoin(JobRow, JobRow.id == latest.c.job_id)
        .where(BatchItemRow.batch_id == batch_id)
        .order_by(BatchItemRow.position)
    )
    return [(item, doc, job) for item, doc, job in s.execute(q).all()]


def done_documents_with_agency(s: Session, owner: str | None) -> list[DocumentRow]:
    """Done documents with an agency and a year, those ``owner`` sees (all when None)."""
    conds: list[Any] = [
        DocumentRow.status == "done",
        DocumentRow.agency.is_not(None),
        DocumentRow.year.is_not(None),
    ]
    if owner is not None:
        conds.append(repo.visible_to(owner))
    return list(s.scalars(select(DocumentRow).where(*conds).order_by(DocumentRow.year, DocumentRow.id)))
