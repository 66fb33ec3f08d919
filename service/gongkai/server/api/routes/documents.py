"""/v1/documents: upload, list, get, retry, the served result, page images and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from gongkai.errors import GongkaiError
from gongkai.server.api import exports, schemas
from gongkai.server.api.auth import Caller, Uploader
from gongkai.server.api.deps import DbDep, DispatcherDep, MetricsDep, SettingsDep, StoreDep
from gongkai.server.api.errors import ApiError, from_pipeline
from gongkai.server.api.limits import check_upload
from gongkai.server.api.metrics import Metrics
from gongkai.server.api.pages import page_png
from gongkai.server.api.routes.common import (
    DOC_ID,
    ERRORS,
    RESULT_RESPONSES,
    correction_out,
    display_filename,
    document_out,
    document_view,
    file_upload_body,
    load_document,
    served_document,
    store_new_document,
    uploaded_file,
    visible_document,
)
from gongkai.server.review import workflow
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore, SpoolTooLarge
from gongkai.settings import Settings

router = APIRouter()

_UPLOAD_BODY = file_upload_body(
    "PDF, HTML or DOCX (images once OCR is installed); the type is sniffed from the content, the name "
    "is for display only"
)


@router.post(
    "/v1/documents",
    status_code=202,
    response_model=schemas.UploadOut,
    responses={
        200: {"model": schemas.UploadOut, "description": "The same file was uploaded before"},
        413: {"model": schemas.ErrorBody, "description": "Over the size or page limit, or a bomb"},
        415: {"model": schemas.ErrorBody, "description": "Not a PDF, HTML or DOCX (sniffed)"},
        **ERRORS,
    },
    openapi_extra=_UPLOAD_BODY,
    tags=["documents"],
    summary="Upload a report; it is stored before the 202 and a job extracts it",
)
async def upload(
    request: Request,
    caller: Uploader,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    db: DbDep,
    metrics: MetricsDep,
    dispatcher: DispatcherDep,
) -> Any:
    async with uploaded_file(request, "file") as (file, filename):
        body, status = await run_in_threadpool(_accept, file, filename, caller, settings, store, db, metrics)
    response.status_code = status
    if status == 202:
        dispatcher.notify(body["job"]["id"])
    return body


def _accept(
    file: UploadFile,
    filename: str,
    caller: Caller,
    settings: Settings,
    store: LocalFileStore,
    db: Database,
    metrics: Metrics,
) -> tuple[dict[str, Any], int]:
    try:
        spool = store.spool(file.file, settings.max_upload_bytes)
        with spool as (tmp, sha, size):
            duplicate = _duplicate(db, sha, caller, filename, metrics)
            if duplicate is not None:
                return duplicate
            if size == 0:
                raise ApiError(422, "empty", "the file is empty")
            try:
                checked = check_upload(tmp, settings)  # from the file: never the whole upload in memory
            except GongkaiError as exc:
                metrics.uploads.labels(exc.code).inc()
                raise from_pipeline(exc) from exc
            try:
                doc, job = store_new_document(
                    db, store, tmp, sha, size, filename, checked, caller.key_id, settings.max_attempts
                )
            except IntegrityError:
                # The same file arrived twice at once: the other upload won; answer as for any duplicate
                # (a grant when the winner was another key this caller cannot see).
                duplicate = _duplicate(db, sha, caller, filename, metrics)
                if duplicate is None:
                    raise
                return duplicate
            body = {**document_out(doc, job), "duplicate": False}
    except SpoolTooLarge as exc:
        metrics.uploads.labels("too_large").inc()
        raise ApiError(413, "too_large", str(exc)) from exc
    metrics.uploads.labels("accepted").inc()
    return body, 202


def _duplicate(
    db: Database, sha: str, caller: Caller, filename: str, metrics: Metrics
) -> tuple[dict[str, Any], int] | None:
    """The answer to an upload of bytes stored before (None when they were not). A caller that sees
    that document gets it as it is. Any other key holds the same bytes, so it gets the extraction too,
    through a grant, and sees the document as its own upload: its filename, its key, never the first
    uploader's name or key."""
    for attempt in range(2):
        try:
            with db.session() as s:
                existing = repo.find_by_sha(s, sha)
                if existing is None:
                    return None
                grant = None
                if not (caller.sees_all or repo.document_owned_by(existing, caller.key_id)):
                    grant = repo.grant_document(s, existing, caller.key_id, filename)
                body = {**document_out(existing, repo.latest_job(s, existing.id), grant), "duplicate": True}
        except IntegrityError:
            # The same key sent these bytes twice at once and the other request made the grant: read it.
            if attempt:
                raise
            continue
        metrics.uploads.labels("duplicate").inc()
        return body, 200
    return None  # not reached: the second attempt returns or raises


@router.get("/v1/documents", response_model=schemas.DocumentPage, responses=ERRORS, tags=["documents"])
def list_documents(
    request: Request,
    caller: Uploader,
    db: DbDep,
    status: Literal["queued", "processing", "done", "failed"] | None = None,
    format: Literal["2021", "2019", "legacy"] | None = None,
    year: int | None = Query(None, ge=1990, le=2100),
    agency: str | None = Query(None, max_length=200, description="Substring of the agency name"),
    failing: bool | None = Query(
        None, description="Only documents with (true) or without (false) failing checks"
    ),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    f = repo.DocumentFilter(status=status, format=format, year=year, agency=agency, failing=failing)
    with db.session() as s:
        owner = None if caller.sees_all else caller.key_id
        rows, total = repo.list_documents(s, f, limit, offset, owner=owner)
        # A key with scope own sees a granted document under its own upload's details.
        grants = repo.grants_for(s, owner, [d.id for d in rows]) if owner is not None else {}
        items = [document_out(d, repo.latest_job(s, d.id), grants.get(d.id)) for d in rows]
    nxt = None
    if offset + limit < total:
        params = {k: v for k, v in request.query_params.items() if k not in ("offset",)}
        params["offset"] = str(offset + limit)
        nxt = f"/v1/documents?{urlencode(params)}"
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next": nxt}


@router.get(
    "/v1/documents/{document_id}", response_model=schemas.DocumentOut, responses=ERRORS, tags=["documents"]
)
def get_document(caller: Uploader, db: DbDep, document_id: str = DOC_ID) -> Any:
    with db.session() as s:
        doc, job = load_document(s, document_id, caller)
        return document_view(s, doc, job, caller)


@router.post(
    "/v1/documents/{document_id}/retry",
    status_code=202,
    response_model=schemas.DocumentOut,
    responses={409: {"model": schemas.ErrorBody, "description": "The document has not failed"}, **ERRORS},
    tags=["documents"],
    summary="Run a failed document again",
)
def retry(
    caller: Uploader,
    db: DbDep,
    settings: SettingsDep,
    dispatcher: DispatcherDep,
    document_id: str = DOC_ID,
) -> Any:
    with db.session() as s:
        doc = visible_document(s, document_id, caller)
        if doc.status != "failed":
            raise ApiError(
                409, "not_failed", f"the document is {doc.status}; only failed documents are retried"
            )
        job = repo.retry_document(s, doc, caller.key_id, settings.max_attempts)
        if job is None:  # a concurrent retry won, or the document changed since it was read
            raise ApiError(
                409, "not_failed", f"the document is {doc.status}; only failed documents are retried"
            )
        body = document_view(s, doc, job, caller)
    dispatcher.notify(body["job"]["id"])
    return body


@router.get(
    "/v1/documents/{document_id}/result",
    responses={
        200: {
            "description": "The served result",
            "headers": {
                "ETag": {"description": "The document's revision, for If-Match", "schema": {"type": "string"}}
            },
        },
        **RESULT_RESPONSES,
    },
    tags=["results"],
    summary="The result contract, with corrections applied and marked (`corrected`)",
)
def get_result(caller: Uploader, db: DbDep, response: Response, document_id: str = DOC_ID) -> dict[str, Any]:
    with db.session() as s:
        # The revision before the result: a correction committed in between makes the ETag stale (a
        # later PATCH gets 412), never newer than what is served (which would let a lost update through).
        etag = workflow.etag(s, document_id)
        _, served = served_document(s, document_id, caller)
    response.headers["ETag"] = etag
    return served.to_json()


@router.get(
    "/v1/documents/{document_id}/pages/{n}.png",
    responses={200: {"content": {"image/png": {}}, "description": "The page image"}, **ERRORS},
    response_class=Response,
    tags=["results"],
    summary="A page image for review (PDF and image uploads)",
)
def get_page(
    caller: Uploader,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    document_id: str = DOC_ID,
    n: int = PathParam(ge=1, le=100_000),
) -> Response:
    with db.session() as s:
        doc, _ = load_document(s, document_id, caller)
    png = page_png(store, doc.sha256, doc.media_type, n, settings)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


_EXPORT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/v1/documents/{document_id}/export.{fmt}",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t in _EXPORT_TYPES.values()}, "description": "The export"},
        **RESULT_RESPONSES,
    },
    tags=["results"],
    summary="Export the served result as JSON, CSV (cells) or XLSX (cells, checks, paragraphs, history)",
)
def export(
    caller: Uploader, db: DbDep, fmt: Literal["json", "csv", "xlsx"], document_id: str = DOC_ID
) -> Response:
    with db.session() as s:
        doc, served = served_document(s, document_id, caller)
        filename = display_filename(s, doc, caller)  # a grantee's download is named as it sent it
        history = [correction_out(r) for r in repo.history(s, document_id)] if fmt == "xlsx" else []
    result = served.to_json()
    if fmt == "json":
        data = exports.to_json(result)
    elif fmt == "csv":
        data = exports.to_csv(result)
    else:
        data = exports.to_xlsx(result, history)
    stem = Path(filename).stem or "document"
    ascii_stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in stem)[:80]
    return Response(
        data,
        media_type=_EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{ascii_stem or doc.id}.{fmt}"'},
    )
