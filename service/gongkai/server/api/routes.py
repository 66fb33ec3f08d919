"""The /v1 routes, /healthz and /metrics."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from gongkai.errors import GongkaiError
from gongkai.server.api import exports, schemas
from gongkai.server.api.auth import Caller, require
from gongkai.server.api.errors import ApiError, BodyTooLarge, from_pipeline
from gongkai.server.api.limits import check_upload, safe_filename
from gongkai.server.api.pages import page_png
from gongkai.server.storage import repository as repo
from gongkai.server.storage.files import LocalFileStore, SpoolTooLarge
from gongkai.server.storage.merge import BadCorrection, check_changes, iso, paragraphs, parse_cell_value
from gongkai.server.storage.models import ApiKey, CorrectionRow, DocumentRow, JobRow
from gongkai.settings import Settings

router = APIRouter()
Uploader = Annotated[Caller, Depends(require("uploader"))]
Reviewer = Annotated[Caller, Depends(require("reviewer"))]
Admin = Annotated[Caller, Depends(require("admin"))]
DOC_ID = PathParam(description="Document id", pattern=r"^[0-9a-f]{32}$")
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ErrorBody, "description": "No or bad API key"},
    403: {"model": schemas.ErrorBody, "description": "The key's role does not allow this"},
    404: {"model": schemas.ErrorBody, "description": "Not found"},
    422: {"model": schemas.ErrorBody, "description": "Invalid request"},
}

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, HTML or DOCX (images once OCR is installed); the type is "
                            "sniffed from the content, the name is for display only",
                        }
                    },
                }
            }
        },
    }
}


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _store(request: Request) -> LocalFileStore:
    return request.app.state.store  # type: ignore[no-any-return]


def _t(dt: datetime | None) -> str | None:
    return iso(dt) if dt else None


def _job_out(job: JobRow | None) -> schemas.JobOut | None:
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
        started_at=_t(job.started_at),
        finished_at=_t(job.finished_at),
    )


def _doc_out(doc: DocumentRow, job: JobRow | None) -> dict[str, Any]:
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
        filename=doc.filename,
        media_type=doc.media_type,
        size=doc.size,
        pages=doc.pages,
        status=doc.status,  # type: ignore[arg-type]
        job=_job_out(job),
        error=error,
        format=doc.format,
        year=doc.year,
        agency=doc.agency,
        title=doc.title,
        failing_checks=doc.failing_checks,
        uploaded_by=doc.uploaded_by,
        created_at=iso(doc.created_at),
        updated_at=iso(doc.updated_at),
        links=links,
    ).model_dump()


def _load_doc(request: Request, document_id: str) -> tuple[DocumentRow, JobRow | None]:
    with request.app.state.db.session() as s:
        doc = repo.get_document(s, document_id)
        if doc is None:
            raise ApiError(404, "not_found", f"no document {document_id}")
        return doc, repo.latest_job(s, document_id)


# --- upload -------------------------------------------------------------------------------------


@router.post(
    "/v1/documents",
    status_code=202,
    response_model=schemas.UploadOut,
    responses={
        200: {"model": schemas.UploadOut, "description": "The same file was uploaded before"},
        413: {"model": schemas.ErrorBody, "description": "Over the size or page limit, or a bomb"},
        415: {"model": schemas.ErrorBody, "description": "Not a PDF, HTML or DOCX (sniffed)"},
        **_ERRORS,
    },
    openapi_extra=_UPLOAD_BODY,
    tags=["documents"],
    summary="Upload a report; it is stored before the 202 and a job extracts it",
)
async def upload(request: Request, caller: Uploader, response: Response) -> Any:
    settings, store = _settings(request), _store(request)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "send the file as multipart/form-data, field 'file'")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except (ApiError, BodyTooLarge):
        raise
    except Exception as exc:  # Starlette's MultiPartException and friends: a malformed body
        raise ApiError(400, "bad_multipart", f"the multipart body cannot be read ({exc})") from exc
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ApiError(422, "invalid_request", "the multipart field 'file' with a file is required")
        filename = safe_filename(file.filename)
        body, status = await run_in_threadpool(_accept, request, file, filename, caller, settings, store)
    finally:
        await form.close()
    response.status_code = status
    if status == 202:
        request.app.state.dispatcher.notify(body["job"]["id"])
    return body


def _accept(
    request: Request,
    file: UploadFile,
    filename: str,
    caller: Caller,
    settings: Settings,
    store: LocalFileStore,
) -> tuple[dict[str, Any], int]:
    metrics = request.app.state.metrics
    db = request.app.state.db
    try:
        spool = store.spool(file.file, settings.max_upload_bytes)
        with spool as (tmp, sha, size):
            with db.session() as s:
                existing = repo.find_by_sha(s, sha)
                if existing is not None:
                    metrics.uploads.labels("duplicate").inc()
                    return {**_doc_out(existing, repo.latest_job(s, existing.id)), "duplicate": True}, 200
            if size == 0:
                raise ApiError(422, "empty", "the file is empty")
            try:
                checked = check_upload(tmp.read_bytes(), settings)
            except GongkaiError as exc:
                metrics.uploads.labels(exc.code).inc()
                raise from_pipeline(exc) from exc
            created = store.put_file(tmp, sha)
            try:
                with db.session() as s:
                    doc, job = repo.create_document(
                        s,
                        sha256=sha,
                        media_type=checked.media_type,
                        size=size,
                        filename=filename,
                        pages=checked.pages,
                        key_id=caller.key_id,
                        max_attempts=settings.max_attempts,
                    )
                    body = {**_doc_out(doc, job), "duplicate": False}
            except IntegrityError:
                # The same file arrived twice at once: the other upload won; answer with its document.
                with db.session() as s:
                    existing = repo.find_by_sha(s, sha)
                    if existing is None:
                        raise
                    metrics.uploads.labels("duplicate").inc()
                    return {**_doc_out(existing, repo.latest_job(s, existing.id)), "duplicate": True}, 200
            except BaseException:
                # Nothing half-written: no row, so the file we just stored goes too (unless a
                # concurrent upload of the same bytes has a row for it by now).
                if created:
                    with db.session() as s:
                        if repo.find_by_sha(s, sha) is None:
                            store.delete(sha)
                raise
    except SpoolTooLarge as exc:
        metrics.uploads.labels("too_large").inc()
        raise ApiError(413, "too_large", str(exc)) from exc
    metrics.uploads.labels("accepted").inc()
    return body, 202


# --- documents ----------------------------------------------------------------------------------


@router.get("/v1/documents", response_model=schemas.DocumentPage, responses=_ERRORS, tags=["documents"])
def list_documents(
    request: Request,
    caller: Uploader,
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
    with request.app.state.db.session() as s:
        rows, total = repo.list_documents(s, f, limit, offset)
        items = [_doc_out(d, repo.latest_job(s, d.id)) for d in rows]
    nxt = None
    if offset + limit < total:
        params = {k: v for k, v in request.query_params.items() if k not in ("offset",)}
        params["offset"] = str(offset + limit)
        nxt = f"/v1/documents?{urlencode(params)}"
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next": nxt}


@router.get(
    "/v1/documents/{document_id}", response_model=schemas.DocumentOut, responses=_ERRORS, tags=["documents"]
)
def get_document(request: Request, caller: Uploader, document_id: str = DOC_ID) -> Any:
    doc, job = _load_doc(request, document_id)
    return _doc_out(doc, job)


@router.post(
    "/v1/documents/{document_id}/retry",
    status_code=202,
    response_model=schemas.DocumentOut,
    responses={409: {"model": schemas.ErrorBody, "description": "The document has not failed"}, **_ERRORS},
    tags=["documents"],
    summary="Run a failed document again",
)
def retry(request: Request, caller: Uploader, document_id: str = DOC_ID) -> Any:
    with request.app.state.db.session() as s:
        doc = repo.get_document(s, document_id)
        if doc is None:
            raise ApiError(404, "not_found", f"no document {document_id}")
        if doc.status != "failed":
            raise ApiError(
                409, "not_failed", f"the document is {doc.status}; only failed documents are retried"
            )
        job = repo.retry_document(s, doc, caller.key_id, _settings(request).max_attempts)
        body = _doc_out(doc, job)
    request.app.state.dispatcher.notify(body["job"]["id"])
    return body


def _served(request: Request, document_id: str) -> tuple[DocumentRow, dict[str, Any]]:
    with request.app.state.db.session() as s:
        doc = repo.get_document(s, document_id)
        if doc is None:
            raise ApiError(404, "not_found", f"no document {document_id}")
        if doc.status != "done":
            extra: dict[str, Any] = {"document_status": doc.status}
            if doc.error_code:
                extra["reason"] = {"code": doc.error_code, "message": doc.error_message}
            raise ApiError(409, "not_ready", f"the document is {doc.status}; no result yet", **extra)
        served = repo.served_result(s, document_id)
        if served is None:
            raise ApiError(409, "not_ready", "the result is not stored yet")
        return doc, served


_RESULT_RESPONSES = {409: {"model": schemas.ErrorBody, "description": "No result (yet)"}, **_ERRORS}


@router.get(
    "/v1/documents/{document_id}/result",
    responses=_RESULT_RESPONSES,
    tags=["results"],
    summary="The result contract, with corrections applied and marked (`corrected`)",
)
def get_result(request: Request, caller: Uploader, document_id: str = DOC_ID) -> dict[str, Any]:
    return _served(request, document_id)[1]


@router.get(
    "/v1/documents/{document_id}/pages/{n}.png",
    responses={200: {"content": {"image/png": {}}, "description": "The page image"}, **_ERRORS},
    response_class=Response,
    tags=["results"],
    summary="A page image for review (PDF and image uploads)",
)
def get_page(
    request: Request,
    caller: Uploader,
    document_id: str = DOC_ID,
    n: int = PathParam(ge=1, le=100_000),
) -> Response:
    doc, _ = _load_doc(request, document_id)
    png = page_png(_store(request), doc.sha256, doc.media_type, n, _settings(request))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _correction_out(row: CorrectionRow) -> dict[str, Any]:
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


@router.patch(
    "/v1/documents/{document_id}/cells/{cell_id}",
    response_model=schemas.CellCorrectionResult,
    responses=_RESULT_RESPONSES,
    tags=["review"],
    summary="Correct a cell; the identities are re-evaluated and returned",
)
def correct_cell(
    request: Request,
    caller: Reviewer,
    body: schemas.CellCorrection,
    document_id: str = DOC_ID,
    cell_id: str = PathParam(max_length=120, pattern=r"^[a-z0-9_.]+$"),
) -> Any:
    db = request.app.state.db
    _served(request, document_id)  # 404 / 409 first
    with db.session() as s:
        doc = repo.get_document(s, document_id)
        before = repo.served_result(s, document_id)
        assert doc is not None and before is not None
        cell = before["cells"].get(cell_id)
        if cell is None:
            raise ApiError(404, "no_such_cell", f"the {before['format']} result has no cell {cell_id}")
        try:
            new = parse_cell_value(before["format"], cell_id, body.value)
        except BadCorrection as exc:
            raise ApiError(422, "bad_value", str(exc)) from exc
        old = {k: cell.get(k) for k in ("value", "raw", "blank", "note")}
        row, after = repo.add_correction(
            s,
            doc,
            target="cell",
            target_id=cell_id,
            old=old,
            new=new,
            reason=body.reason,
            key_id=caller.key_id,
        )
        out = {
            "correction": _correction_out(row),
            "cell": after["cells"][cell_id],
            "checks": after["checks"],
            "changed_checks": check_changes(before, after),
            "failing_checks": doc.failing_checks or 0,
        }
    request.app.state.metrics.corrections.labels("cell").inc()
    return out


@router.patch(
    "/v1/documents/{document_id}/paragraphs/{n}",
    response_model=schemas.ParagraphCorrectionResult,
    responses=_RESULT_RESPONSES,
    tags=["review"],
    summary="Correct paragraph n (1-based, in reading order across sections): its text and/or label",
)
def correct_paragraph(
    request: Request,
    caller: Reviewer,
    body: schemas.ParagraphCorrection,
    document_id: str = DOC_ID,
    n: int = PathParam(ge=1, le=1_000_000),
) -> Any:
    db = request.app.state.db
    _served(request, document_id)
    change: dict[str, Any] = {}
    if body.text is not None:
        if not body.text.strip():
            raise ApiError(422, "bad_value", "a paragraph's text cannot be empty")
        change["text"] = body.text
    if body.clear_label:
        change["label"] = None
    elif body.label is not None:
        change["label"] = body.label
    if not change:
        raise ApiError(422, "bad_value", "give a new text, a label, or clear_label")
    with db.session() as s:
        doc = repo.get_document(s, document_id)
        before = repo.served_result(s, document_id)
        assert doc is not None and before is not None
        paras = paragraphs(before)
        if n > len(paras):
            raise ApiError(
                404, "no_such_paragraph", f"the result has {len(paras)} paragraphs; no paragraph {n}"
            )
        old = {k: paras[n - 1].get(k) for k in change}
        row, after = repo.add_correction(
            s,
            doc,
            target="paragraph",
            target_id=str(n),
            old=old,
            new=change,
            reason=body.reason,
            key_id=caller.key_id,
        )
        out = {"correction": _correction_out(row), "paragraph": paragraphs(after)[n - 1]}
    request.app.state.metrics.corrections.labels("paragraph").inc()
    return out


@router.get(
    "/v1/documents/{document_id}/history",
    response_model=schemas.HistoryOut,
    responses=_ERRORS,
    tags=["review"],
    summary="Every correction: who, when, old, new, why",
)
def get_history(request: Request, caller: Uploader, document_id: str = DOC_ID) -> Any:
    _load_doc(request, document_id)
    with request.app.state.db.session() as s:
        rows = repo.history(s, document_id)
        return {"document_id": document_id, "corrections": [_correction_out(r) for r in rows]}


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
        **_RESULT_RESPONSES,
    },
    tags=["results"],
    summary="Export the served result as JSON, CSV (cells) or XLSX (cells, checks, paragraphs, history)",
)
def export(
    request: Request, caller: Uploader, fmt: Literal["json", "csv", "xlsx"], document_id: str = DOC_ID
) -> Response:
    doc, served = _served(request, document_id)
    if fmt == "json":
        data = exports.to_json(served)
    elif fmt == "csv":
        data = exports.to_csv(served)
    else:
        with request.app.state.db.session() as s:
            history = [_correction_out(r) for r in repo.history(s, document_id)]
        data = exports.to_xlsx(served, history)
    stem = Path(doc.filename).stem or "document"
    ascii_stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in stem)[:80]
    return Response(
        data,
        media_type=_EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{ascii_stem or doc.id}.{fmt}"'},
    )


# --- keys ---------------------------------------------------------------------------------------


def _key_out(k: ApiKey) -> dict[str, Any]:
    return schemas.KeyOut(
        id=k.id,
        name=k.name,
        role=k.role,
        created_at=iso(k.created_at),
        created_by=k.created_by,
        revoked_at=_t(k.revoked_at),
    ).model_dump()


@router.post("/v1/keys", status_code=201, response_model=schemas.KeyCreated, responses=_ERRORS, tags=["keys"])
def create_key(request: Request, caller: Admin, body: schemas.KeyCreate) -> Any:
    with request.app.state.db.session() as s:
        row, plaintext = repo.create_key(s, body.role, body.name, created_by=caller.key_id)
        return {**_key_out(row), "key": plaintext}


@router.get("/v1/keys", response_model=list[schemas.KeyOut], responses=_ERRORS, tags=["keys"])
def list_keys(request: Request, caller: Admin) -> Any:
    with request.app.state.db.session() as s:
        return [_key_out(k) for k in repo.list_keys(s)]


@router.delete("/v1/keys/{key_id}", response_model=schemas.KeyOut, responses=_ERRORS, tags=["keys"])
def revoke_key(
    request: Request,
    caller: Admin,
    key_id: str = PathParam(pattern=r"^[0-9a-f]{12}$"),
) -> Any:
    with request.app.state.db.session() as s:
        row = repo.revoke_key(s, key_id, caller.key_id)
        if row is None:
            raise ApiError(404, "not_found", f"no key {key_id}")
        return _key_out(row)


# --- operations ---------------------------------------------------------------------------------


@router.get("/healthz", response_model=schemas.Health, tags=["operations"])
def healthz(request: Request, response: Response) -> Any:
    from sqlalchemy import text

    from gongkai.server.api.app import package_version

    db = request.app.state.db
    try:
        with db.session() as s:
            s.execute(text("SELECT 1"))
        database = f"ok ({db.backend})"
    except Exception as exc:
        database = f"unreachable: {type(exc).__name__}"
    dispatcher = request.app.state.dispatcher
    alive = getattr(dispatcher, "alive", None)
    jobs = type(dispatcher).__name__ + (f" ({alive()} workers alive)" if callable(alive) else "")
    ok = database.startswith("ok")
    response.status_code = 200 if ok else 503
    status = "ok" if ok else "degraded"
    return {"status": status, "database": database, "jobs": jobs, "version": package_version()}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
    tags=["operations"],
)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
