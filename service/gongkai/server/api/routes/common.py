"""What the resource routers share: error responses, the document id, and the bodies they build."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Path as PathParam
from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from gongkai.server.api import schemas
from gongkai.server.api.auth import Caller
from gongkai.server.api.errors import ApiError, BodyTooLarge
from gongkai.server.api.limits import Checked, safe_filename
from gongkai.server.review import ServedResult, served_result
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.server.storage.models import CorrectionRow, DocumentGrant, DocumentRow, JobRow, iso

DOC_ID = PathParam(description="Document id", pattern=r"^[0-9a-f]{32}$")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ErrorBody, "description": "No or bad API key"},
    403: {"model": schemas.ErrorBody, "description": "The key's role does not allow this"},
    404: {"model": schemas.ErrorBody, "description": "Not found"},
    422: {"model": schemas.ErrorBody, "description": "Invalid request"},
}


@asynccontextmanager
async def uploaded_file(request: Request, what: str) -> AsyncIterator[tuple[UploadFile, str]]:
    """The multipart field ``file`` of an upload and its safe display name; the form (and its spooled
    file) is closed on the way out. ``what`` names the expected content in the error messages."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", f"send the {what} as multipart/form-data, field 'file'")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except (ApiError, BodyTooLarge):
        raise
    except Exception as exc:  # Starlette's MultiPartException and friends: a malformed body
        raise ApiError(400, "bad_multipart", f"the multipart body cannot be read ({exc})") from exc
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            article = "an" if what[0] in "aeiou" else "a"
            raise ApiError(
                422, "invalid_request", f"the multipart field 'file' with {article} {what} is required"
            )
        yield file, safe_filename(file.filename)
    finally:
        await form.close()


def file_upload_body(description: str) -> dict[str, Any]:
    """The OpenAPI request body of a route that takes one file as multipart field ``file``."""
    field = {"type": "string", "format": "binary", "description": description}
    schema = {"type": "object", "required": ["file"], "properties": {"file": field}}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


RESULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": schemas.ErrorBody, "description": "No result (yet)"},
    **ERRORS,
}


def optional_iso(dt: datetime | None) -> str | None:
    return iso(dt) if dt else None


def job_out(job: JobRow | None) -> schemas.JobOut | None:
    if job is None:
        return None
    err = None
    if job.error_code:
        err = schemas.ErrorDetail(code=job.error_code, message=job.error_message or "")
    return schemas.JobOut(
        id=job.id,
        status=job.status,  # type: ignore[arg-type]
        stage=job.stage,
        progress=schemas.STAGE_PROGRESS.get(job.stage, 0.0),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        error=err,
        created_at=iso(job.created_at),
        started_at=optional_iso(job.started_at),
        finished_at=optional_iso(job.finished_at),
    )


def document_out(doc: DocumentRow, job: JobRow | None, grant: DocumentGrant | None = None) -> dict[str, Any]:
    """The document as the API shows it. With ``grant`` (a key that uploaded the same bytes after
    another key and cannot see that key's uploads), what is the first uploader's is replaced by the
    grant's own: its filename, its key as ``uploaded_by``, its time as ``created_at``."""
    filename, uploaded_by = doc.filename, doc.uploaded_by
    created_at, updated_at = doc.created_at, doc.updated_at
    if grant is not None:
        filename, uploaded_by, created_at = grant.filename, grant.key_id, grant.created_at
        updated_at = max(updated_at, created_at)
    base = f"/v1/documents/{doc.id}"
    links = {"self": base, "result": f"{base}/result", "history": f"{base}/history"}
    if doc.status == "failed":
        links["retry"] = f"{base}/retry"
    error = None
    if doc.status == "failed" and doc.error_code:
        error = schemas.DocumentError(code=doc.error_code, message=doc.error_message or "", retryable=True)
    return schemas.DocumentOut(
        id=doc.id,
        sha256=doc.sha256,
        filename=filename,
        media_type=doc.media_type,
        size=doc.size,
        pages=doc.pages,
        status=doc.status,  # type: ignore[arg-type]
        job=job_out(job),
        error=error,
        format=doc.format,
        year=doc.year,
        agency=doc.agency,
        title=doc.title,
        failing_checks=doc.failing_checks,
        cells_to_review=doc.cells_to_review,
        reviewed_by=doc.reviewed_by,
        reviewed_at=optional_iso(doc.reviewed_at),
        uploaded_by=uploaded_by,
        created_at=iso(created_at),
        updated_at=iso(updated_at),
        links=links,
    ).model_dump()


def correction_out(row: CorrectionRow) -> dict[str, Any]:
    return schemas.CorrectionOut(
        id=row.id,
        target=row.target,  # type: ignore[arg-type]
        target_id=row.target_id,
        old=json.loads(row.old_json),
        new=json.loads(row.new_json),
        reason=row.reason,
        by=row.key_id,
        at=iso(row.created_at),
    ).model_dump()


def caller_grant(s: Session, doc: DocumentRow, caller: Caller) -> DocumentGrant | None:
    """The caller's grant to the document when that is how it sees it (it neither sees all nor owns it)."""
    if caller.sees_all or repo.document_owned_by(doc, caller.key_id):
        return None
    return repo.grant_for(s, doc.id, caller.key_id)


def visible_document(s: Session, document_id: str, caller: Caller) -> DocumentRow:
    """The document if the caller may see it; 404 otherwise (never 403: ids of others do not leak).
    A key with scope "own" sees what it owns and what it was granted by uploading the same bytes."""
    doc = repo.get_document(s, document_id)
    if doc is None or not (
        caller.sees_all
        or repo.document_owned_by(doc, caller.key_id)
        or repo.grant_for(s, doc.id, caller.key_id) is not None
    ):
        raise ApiError(404, "not_found", f"no document {document_id}")
    return doc


def document_view(s: Session, doc: DocumentRow, job: JobRow | None, caller: Caller) -> dict[str, Any]:
    """``document_out`` as this caller may see the document (a grantee sees its own upload's details)."""
    return document_out(doc, job, caller_grant(s, doc, caller))


def display_filename(s: Session, doc: DocumentRow, caller: Caller) -> str:
    grant = caller_grant(s, doc, caller)
    return grant.filename if grant is not None else doc.filename


def load_document(s: Session, document_id: str, caller: Caller) -> tuple[DocumentRow, JobRow | None]:
    """The document and its latest job; 404 when there is no such document the caller may see."""
    doc = visible_document(s, document_id, caller)
    return doc, repo.latest_job(s, document_id)


def served_document(s: Session, document_id: str, caller: Caller) -> tuple[DocumentRow, ServedResult]:
    """The document and its served result; 404 without the (visible) document, 409 while it has no result."""
    doc = visible_document(s, document_id, caller)
    if doc.status != "done":
        extra: dict[str, Any] = {"document_status": doc.status}
        if doc.error_code:
            extra["reason"] = {"code": doc.error_code, "message": doc.error_message}
        raise ApiError(409, "not_ready", f"the document is {doc.status}; no result yet", **extra)
    served = served_result(s, document_id)
    if served is None:
        raise ApiError(409, "not_ready", "the result is not stored yet")
    return doc, served


def store_new_document(
    db: Database,
    store: LocalFileStore,
    path: Path,
    sha: str,
    size: int,
    filename: str,
    checked: Checked,
    key_id: str,
    max_attempts: int,
) -> tuple[DocumentRow, JobRow]:
    """Store checked bytes (a spooled file) and make their document and job, leaving nothing
    half-written: a failure removes the stored file again unless a row holds it by then. When the
    same bytes got their document at the same moment through another upload, the unique sha256
    index raises IntegrityError; the caller then links to that document as to any duplicate."""
    created = store.put_file(path, sha)
    try:
        with db.session() as s:
            return repo.create_document(
                s,
                sha256=sha,
                media_type=checked.media_type,
                size=size,
                filename=filename,
                pages=checked.pages,
                key_id=key_id,
                max_attempts=max_attempts,
            )
    except IntegrityError:
        raise  # the other upload's row holds the file: keep it
    except BaseException:
        if created:
            with db.session() as s:
                if repo.find_by_sha(s, sha) is None:
                    store.delete(sha)
        raise
