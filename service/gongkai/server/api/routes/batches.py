"""/v1/batches: an archive of reports in one upload; each member becomes a normal document with a job.

The archive is read the way ``gongkai batch`` reads one (``gongkai.batch.sources.walk``: zip, tar.*,
7z, nested, member names in GBK, nothing unpacked to disk, a member over the limit listed unread) and
members are told apart by sha256 as in its manifest: a member whose bytes the service already holds is
linked to that document (never run again), a repeat inside the archive is linked to the first, and a
member that is broken or of a type the service does not read is listed with the reason. Documents made
here are the service's own: they have jobs, appear in GET /v1/documents and in the review queue.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from gongkai.batch.sources import SEP, WalkLimits, archive_kind, walk
from gongkai.errors import GongkaiError
from gongkai.server.api import schemas
from gongkai.server.api.auth import Caller, Uploader
from gongkai.server.api.deps import DbDep, DispatcherDep, SettingsDep, StoreDep
from gongkai.server.api.errors import ApiError
from gongkai.server.api.limits import check_upload, safe_filename
from gongkai.server.api.routes.common import ERRORS, file_upload_body, store_new_document, uploaded_file
from gongkai.server.storage import batches as batch_repo
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore, SpoolTooLarge
from gongkai.server.storage.models import BatchItemRow, BatchRow, DocumentRow, JobRow, iso
from gongkai.settings import Settings

router = APIRouter()

MAX_MEMBERS = 5000  # a disclosure archive of one region and many years; more is a bomb of tiny files
MAX_DEPTH = 3

Outcome = Literal["new", "existing", "duplicate", "rejected"]


class ItemDocument(BaseModel):
    id: str
    status: schemas.DocStatus
    error: schemas.ErrorDetail | None = None
    year: int | None = None
    agency: str | None = None
    failing_checks: int | None = None
    link: str


class BatchItemOut(BaseModel):
    path: str = Field(description="the member's path in the archive; nested archives as outer!inner")
    sha256: str | None = None
    outcome: Outcome = Field(
        description="new: a document and a job were made; existing: the service held these bytes "
        "already (linked, not run again); duplicate: the same bytes as an earlier member; "
        "rejected: not made a document (see error)"
    )
    document: ItemDocument | None = None
    error: schemas.ErrorDetail | None = None


class BatchProgress(BaseModel):
    members: int
    documents: int = Field(description="distinct documents the batch links to")
    queued: int
    processing: int
    done: int
    failed: int
    rejected: int
    duplicates: int = Field(description="members linked to an earlier member or an existing document")
    fraction: float = Field(ge=0, le=1, description="documents finished (done or failed) / documents")


class BatchOut(BaseModel):
    id: str
    filename: str
    sha256: str
    size: int
    uploaded_by: str
    created_at: str
    status: Literal["expanding", "processing", "done"]
    progress: BatchProgress
    items: list[BatchItemOut]
    links: dict[str, Any]


_BATCH_ID = PathParam(description="Batch id", pattern=r"^[0-9a-f]{32}$")
_UPLOAD_BODY = file_upload_body("zip, tar (gzip, bzip2, xz) or 7z of reports (sniffed)")


@router.post(
    "/v1/batches",
    status_code=202,
    response_model=BatchOut,
    responses={
        413: {"model": schemas.ErrorBody, "description": "The archive is over the upload limit"},
        415: {"model": schemas.ErrorBody, "description": "Not an archive (sniffed)"},
        **ERRORS,
    },
    openapi_extra=_UPLOAD_BODY,
    tags=["batches"],
    summary="Upload an archive of reports; every member is listed, new ones become documents with jobs",
)
async def create_batch(
    request: Request,
    caller: Uploader,
    settings: SettingsDep,
    store: StoreDep,
    db: DbDep,
    dispatcher: DispatcherDep,
) -> Any:
    async with uploaded_file(request, "archive") as (file, filename):
        batch_id, jobs = await run_in_threadpool(_accept, file, filename, caller, settings, store, db)
    for job_id in jobs:
        dispatcher.notify(job_id)
    with db.session() as s:
        return _batch_view(s, _visible_batch(s, batch_id, caller))


@router.get("/v1/batches/{batch_id}", response_model=BatchOut, responses=ERRORS, tags=["batches"])
def get_batch(caller: Uploader, db: DbDep, batch_id: str = _BATCH_ID) -> Any:
    with db.session() as s:
        return _batch_view(s, _visible_batch(s, batch_id, caller))


def _visible_batch(s: Any, batch_id: str, caller: Caller) -> BatchRow:
    """The batch if the caller may see it (its own, or it sees all); 404 otherwise, never 403."""
    row = batch_repo.get_batch(s, batch_id)
    if row is None or not (caller.sees_all or row.key_id == caller.key_id):
        raise ApiError(404, "not_found", f"no batch {batch_id}")
    return row


def _accept(
    file: UploadFile, filename: str, caller: Caller, settings: Settings, store: LocalFileStore, db: Database
) -> tuple[str, list[int]]:
    try:
        with store.spool(file.file, settings.max_upload_bytes) as (tmp, sha, size):
            if archive_kind(tmp) is None:
                raise ApiError(415, "not_an_archive", "not a zip, tar or 7z archive (judged by content)")
            with db.session() as s:
                batch_id = batch_repo.create_batch(
                    s, filename=filename, sha256=sha, size=size, key_id=caller.key_id
                ).id
            jobs = _expand(tmp, batch_id, caller, settings, store, db)
    except SpoolTooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from exc
    return batch_id, jobs


def _expand(
    archive: Path, batch_id: str, caller: Caller, settings: Settings, store: LocalFileStore, db: Database
) -> list[int]:
    """List every member; returns the ids of the jobs made. One transaction per member, as an upload."""
    limits = WalkLimits(max_bytes=settings.max_upload_bytes, max_depth=MAX_DEPTH)
    first_of: dict[str, str] = {}  # sha256 -> document id, for repeats inside the archive
    jobs: list[int] = []
    total = 0
    for position, entry in enumerate(walk([str(archive)], limits)):
        path = entry.path.split(SEP, 1)[1] if SEP in entry.path else Path(entry.path).name
        if position >= MAX_MEMBERS:
            _item(
                db,
                batch_id,
                position,
                path,
                "rejected",
                code="too_many_members",
                message=f"the archive has more than {MAX_MEMBERS} members; the rest are not read",
            )
            break
        if entry.data is None:
            _item(db, batch_id, position, path, "rejected", code=entry.error_code, message=entry.error)
            continue
        total += len(entry.data)
        if total > settings.max_uncompressed_bytes:
            _item(
                db,
                batch_id,
                position,
                path,
                "rejected",
                code="too_large",
                message=(
                    f"the archive inflates past {settings.max_uncompressed_bytes} bytes; the rest is not read"
                ),
            )
            break
        sha = hashlib.sha256(entry.data).hexdigest()
        if sha in first_of:
            _item(db, batch_id, position, path, "duplicate", sha=sha, document_id=first_of[sha])
            continue
        member_name = safe_filename(path.rsplit(SEP, 1)[-1])
        made = _document_for(entry.data, sha, member_name, caller, settings, store, db)
        if isinstance(made, GongkaiError):
            _item(db, batch_id, position, path, "rejected", sha=sha, code=made.code, message=str(made))
            continue
        document_id, job_id = made
        first_of[sha] = document_id
        _item(db, batch_id, position, path, "new" if job_id else "existing", sha=sha, document_id=document_id)
        if job_id:
            jobs.append(job_id)
    with db.session() as s:
        batch_repo.finish_expanding(s, batch_id)
    return jobs


def _document_for(
    data: bytes,
    sha: str,
    filename: str,
    caller: Caller,
    settings: Settings,
    store: LocalFileStore,
    db: Database,
) -> tuple[str, int | None] | GongkaiError:
    """(document id, new job id or None when the document existed) or why the member is refused."""
    existing = _link_existing(db, sha, caller, filename)
    if existing is not None:
        return existing, None
    try:
        checked = check_upload(data, settings)  # the checks of POST /v1/documents: type, pages, bombs
    except GongkaiError as exc:
        return exc
    try:
        with store.spool(BytesIO(data), settings.max_upload_bytes) as (tmp, _, size):
            doc, job = store_new_document(
                db, store, tmp, sha, size, filename, checked, caller.key_id, settings.max_attempts
            )
    except IntegrityError:
        # The same bytes arrived at once through another upload: link to that one.
        existing = _link_existing(db, sha, caller, filename)
        if existing is None:
            raise
        return existing, None
    return doc.id, job.id


def _link_existing(db: Database, sha: str, caller: Caller, filename: str) -> str | None:
    """The id of the document holding these bytes, with a grant for a caller that could not see it."""
    with db.session() as s:
        doc = repo.find_by_sha(s, sha)
        if doc is None:
            return None
        if not (caller.sees_all or repo.document_owned_by(doc, caller.key_id)):
            repo.grant_document(s, doc, caller.key_id, filename)
        return doc.id


def _item(
    db: Database,
    batch_id: str,
    position: int,
    path: str,
    outcome: str,
    *,
    sha: str | None = None,
    document_id: str | None = None,
    code: str | None = None,
    message: str | None = None,
) -> None:
    with db.session() as s:
        batch_repo.add_item(
            s,
            batch_id,
            position,
            path[:2000],
            outcome,
            sha256=sha,
            document_id=document_id,
            error_code=(code or "unreadable")[:32] if outcome == "rejected" else None,
            error_message=message,
        )


def _item_document(doc: DocumentRow, job: JobRow | None) -> ItemDocument:
    error = None
    if doc.status == "failed" and doc.error_code:
        error = schemas.ErrorDetail(code=doc.error_code, message=doc.error_message or "")
    elif job is not None and job.error_code and doc.status != "done":
        error = schemas.ErrorDetail(code=job.error_code, message=job.error_message or "")
    return ItemDocument(
        id=doc.id,
        status=doc.status,  # type: ignore[arg-type]
        error=error,
        year=doc.year,
        agency=doc.agency,
        failing_checks=doc.failing_checks,
        link=f"/v1/documents/{doc.id}",
    )


def _batch_view(s: Any, batch: BatchRow) -> dict[str, Any]:
    rows = batch_repo.batch_items(s, batch.id)
    items: list[BatchItemOut] = []
    statuses: dict[str, str] = {}
    counts = {"rejected": 0, "duplicates": 0}
    for item, doc, job in rows:
        items.append(_item_out(item, doc, job))
        if doc is not None:
            statuses[doc.id] = doc.status
        if item.outcome == "rejected":
            counts["rejected"] += 1
        elif item.outcome in ("existing", "duplicate"):
            counts["duplicates"] += 1
    by_status = {
        k: sum(1 for v in statuses.values() if v == k) for k in ("queued", "processing", "done", "failed")
    }
    finished = by_status["done"] + by_status["failed"]
    if batch.expanded_at is None:
        status = "expanding"
    else:
        status = "done" if finished == len(statuses) else "processing"
    progress = BatchProgress(
        members=len(rows),
        documents=len(statuses),
        rejected=counts["rejected"],
        duplicates=counts["duplicates"],
        fraction=round(finished / len(statuses), 4) if statuses else 1.0,
        **by_status,
    )
    base = f"/v1/batches/{batch.id}"
    return BatchOut(
        id=batch.id,
        filename=batch.filename,
        sha256=batch.sha256,
        size=batch.size,
        uploaded_by=batch.key_id,
        created_at=iso(batch.created_at),
        status=status,  # type: ignore[arg-type]
        progress=progress,
        items=items,
        links={"self": base, "documents": [f"/v1/documents/{d}" for d in statuses]},
    ).model_dump()


def _item_out(item: BatchItemRow, doc: DocumentRow | None, job: JobRow | None) -> BatchItemOut:
    error = None
    if item.outcome == "rejected":
        error = schemas.ErrorDetail(code=item.error_code or "unreadable", message=item.error_message or "")
    return BatchItemOut(
        path=item.path,
        sha256=item.sha256,
        outcome=item.outcome,  # type: ignore[arg-type]
        document=_item_document(doc, job) if doc is not None else None,
        error=error,
    )
