"""/review: the review workspace's pages, rendered on the server (Jinja2).

The pages read storage directly; every write a page makes goes through the JSON API (/v1) with the
session cookie and its CSRF token, so the browser and curl share one set of rules. The few plain
HTML forms (sign-in, sign-out, the reviewed state) carry the CSRF token as a hidden field.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gongkai.server.api.auth import SESSION_COOKIE, Caller
from gongkai.server.api.deps import DbDep, SettingsDep
from gongkai.server.api.errors import ApiError
from gongkai.server.api.routes.common import display_filename, served_document, visible_document
from gongkai.server.storage import repository as repo
from gongkai.server.storage import web_sessions
from gongkai.server.storage.keys import role_allows
from gongkai.server.storage.models import iso
from gongkai.server.web import views

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/review", include_in_schema=False)

PRE_CSRF_COOKIE = "gongkai_signin"  # double-submit token for the sign-in form (no session yet)
PAGE_SIZE = 25
SORTS = {
    "failing": "Most failing first",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "year": "Year",
    "agency": "Agency",
}
# The pages' own scripts and styles only: no inline script, nothing from another origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """Raised by a page whose visitor has no live session; answered with a redirect to sign-in."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@dataclass(frozen=True)
class Visitor:
    caller: Caller
    csrf_token: str
    name: str

    @property
    def can_edit(self) -> bool:
        return role_allows(self.caller.role, "reviewer")

    @property
    def is_admin(self) -> bool:
        return role_allows(self.caller.role, "admin")


def _visitor(request: Request, db: DbDep) -> Visitor:
    token = request.cookies.get(SESSION_COOKIE)
    with db.session() as s:
        found = web_sessions.resolve(s, token) if token else None
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        session, key = found
        return Visitor(Caller(key.id, key.role, key.scope, session.csrf_token), session.csrf_token, key.name)


VisitorDep = Annotated[Visitor, Depends(_visitor)]


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _safe_next(url: str | None) -> str:
    """Only a path inside the workspace: never an open redirect to another site."""
    if url and url.startswith("/review") and not url.startswith("//") and "\\" not in url:
        return url
    return "/review"


def _check_form_csrf(visitor: Visitor, sent: str) -> None:
    if not secrets.compare_digest(visitor.csrf_token.encode(), sent.encode()):
        raise ApiError(403, "csrf", "the form's CSRF token does not match the session: reload the page")


# --- sign-in and sign-out -------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/review", error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", next=_safe_next(next), csrf_token=token, error=error)
    response.set_cookie(
        PRE_CSRF_COOKIE, token, max_age=1800, httponly=True, samesite="strict", path="/review"
    )
    return response


@router.post("/sign-in")
def sign_in(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    api_key: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _sign_in_again(request, next, "The sign-in form expired. Please try again.", 403)
    with db.session() as s:
        key = repo.verify_key(s, api_key.strip()) if api_key.strip() else None
        if key is None:
            return _sign_in_again(request, next, "That API key is not valid or was revoked.", 401)
        new = web_sessions.create(s, key.id, timedelta(hours=settings.session_hours))
        repo.log_event(s, key.id, "session.start", None, {})
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(PRE_CSRF_COOKIE, path="/review")
    return response


def _sign_in_again(request: Request, next: str, error: str, status: int) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "sign_in.html", status=status, next=_safe_next(next), csrf_token=token, error=error
    )
    response.set_cookie(
        PRE_CSRF_COOKIE, token, max_age=1800, httponly=True, samesite="strict", path="/review"
    )
    return response


@router.post("/sign-out")
def sign_out(
    request: Request, db: DbDep, visitor: VisitorDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    _check_form_csrf(visitor, csrf_token)
    with db.session() as s:
        web_sessions.end(s, request.cookies.get(SESSION_COOKIE, ""))
        repo.log_event(s, visitor.caller.key_id, "session.end", None, {})
    response = RedirectResponse("/review/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the queue ------------------------------------------------------------------------------------


@router.get("")
def queue(
    request: Request,
    db: DbDep,
    visitor: VisitorDep,
    status: str = Query("", max_length=20),
    year: str = Query("", max_length=4),
    agency: str = Query("", max_length=200),
    format: str = Query("", max_length=10),
    failing: str = Query("", max_length=3),
    review: str = Query("", max_length=3),
    sort: str = Query("failing", max_length=10),
    page: int = Query(1, ge=1, le=100_000),
) -> HTMLResponse:
    f = repo.DocumentFilter(
        status=status if status in ("queued", "processing", "done", "failed") else None,
        format=format if format in ("2021", "2019", "legacy") else None,
        year=int(year) if year.isdigit() and 1990 <= int(year) <= 2100 else None,
        agency=agency.strip() or None,
        failing={"yes": True, "no": False}.get(failing),
        needs_review=review == "yes",
    )
    sort = sort if sort in SORTS else "failing"
    caller = visitor.caller
    with db.session() as s:
        owner = None if caller.sees_all else caller.key_id
        rows, total = repo.list_documents(s, f, PAGE_SIZE, (page - 1) * PAGE_SIZE, owner=owner, sort=sort)
        last = repo.last_reviewers(s, [d.id for d in rows])
        docs = [
            {
                "id": d.id,
                "filename": display_filename(s, d, caller),
                "title": d.title,
                "status": d.status,
                "agency": d.agency,
                "year": d.year,
                "format": d.format,
                "failing": d.failing_checks,
                "to_review": d.cells_to_review,
                "last_reviewer": last.get(d.id),
                "reviewed_by": d.reviewed_by,
                "reviewed_at": iso(d.reviewed_at) if d.reviewed_at else None,
                "error": d.error_message,
                "created_at": iso(d.created_at),
            }
            for d in rows
        ]
    params = {
        k: v
        for k, v in {
            "status": status,
            "year": year,
            "agency": agency,
            "format": format,
            "failing": failing,
            "review": review,
            "sort": sort,
        }.items()
        if v
    }
    pages = max(1, math.ceil(total / PAGE_SIZE))

    def page_url(n: int) -> str:
        return "/review?" + urlencode({**params, "page": str(n)})

    return render(
        request,
        "queue.html",
        visitor=visitor,
        docs=docs,
        total=total,
        page=page,
        pages=pages,
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
        params=params,
        sorts=SORTS,
        sort=sort,
    )


@router.get("/next")
def next_document(db: DbDep, visitor: VisitorDep, after: str = Query("", max_length=32)) -> Response:
    """The next document needing review (n): failing checks or flagged cells, not marked reviewed."""
    caller = visitor.caller
    with db.session() as s:
        owner = None if caller.sees_all else caller.key_id
        doc_id = repo.next_needing_review(s, after or None, owner=owner)
    if doc_id is None:
        return RedirectResponse("/review?review=yes&none=1", status_code=303)
    return RedirectResponse(f"/review/documents/{doc_id}", status_code=303)


# --- one document ---------------------------------------------------------------------------------

DOC_ID = PathParam(pattern=r"^[0-9a-f]{32}$")


@router.get("/documents/{document_id}")
def document(request: Request, db: DbDep, visitor: VisitorDep, document_id: str = DOC_ID) -> HTMLResponse:
    from gongkai.server.review import workflow

    with db.session() as s:
        doc = visible_document(s, document_id, visitor.caller)
        info = _doc_info(doc, display_filename(s, doc, visitor.caller))
        if doc.status != "done":
            return render(request, "pending.html", visitor=visitor, doc=info)
        etag = workflow.etag(s, document_id)
        _, served = served_document(s, document_id, visitor.caller)
        corrections = len(repo.history(s, document_id))
    view = views.document_view(served)
    meta = served.result.metadata
    return render(
        request,
        "document.html",
        visitor=visitor,
        doc=info,
        view=view,
        meta=meta,
        etag=etag,
        corrections=corrections,
        labels=views.LABELS,
        marks=views.MARKS,
        has_pages=doc.media_type.startswith("image/") or doc.media_type == "application/pdf",
    )


@router.post("/documents/{document_id}/reviewed")
def mark_reviewed(
    db: DbDep,
    visitor: VisitorDep,
    document_id: str = DOC_ID,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reviewed: Annotated[str, Form(max_length=5)] = "yes",
) -> Response:
    _check_form_csrf(visitor, csrf_token)
    if not visitor.can_edit:
        raise ApiError(403, "forbidden", "marking a document reviewed needs the reviewer role")
    with db.session() as s:
        repo.lock_document(s, document_id)
        doc = visible_document(s, document_id, visitor.caller)
        if doc.status != "done":
            raise ApiError(409, "not_ready", f"the document is {doc.status}; only a result can be reviewed")
        repo.set_reviewed(s, doc, reviewed == "yes", visitor.caller.key_id)
    return RedirectResponse(f"/review/documents/{document_id}", status_code=303)


@router.get("/documents/{document_id}/history")
def history(request: Request, db: DbDep, visitor: VisitorDep, document_id: str = DOC_ID) -> HTMLResponse:
    with db.session() as s:
        doc = visible_document(s, document_id, visitor.caller)
        rows = [
            {
                "id": r.id,
                "target": r.target,
                "target_id": r.target_id,
                "old": r.old_json,
                "new": r.new_json,
                "reason": r.reason,
                "by": r.key_id,
                "at": iso(r.created_at),
            }
            for r in reversed(repo.history(s, document_id))
        ]
        info = _doc_info(doc, display_filename(s, doc, visitor.caller))
    return render(request, "history.html", visitor=visitor, doc=info, rows=rows)


@router.get("/keys")
def keys_page(request: Request, db: DbDep, visitor: VisitorDep) -> HTMLResponse:
    if not visitor.is_admin:
        raise ApiError(403, "forbidden", "managing keys needs the admin role")
    with db.session() as s:
        keys = [
            {
                "id": k.id,
                "name": k.name,
                "role": k.role,
                "scope": k.scope,
                "created_at": iso(k.created_at),
                "revoked": k.revoked_at is not None,
            }
            for k in repo.list_keys(s)
        ]
    return render(request, "keys.html", visitor=visitor, keys=keys)


def _doc_info(doc: Any, filename: str) -> dict[str, Any]:
    """What the pages show of a document; ``filename`` as this visitor may see it (a key that was
    granted the document by uploading the same bytes sees its own file's name)."""
    return {
        "id": doc.id,
        "filename": filename,
        "title": doc.title,
        "status": doc.status,
        "agency": doc.agency,
        "year": doc.year,
        "format": doc.format,
        "pages": doc.pages,
        "failing": doc.failing_checks,
        "to_review": doc.cells_to_review,
        "reviewed_by": doc.reviewed_by,
        "reviewed_at": iso(doc.reviewed_at) if doc.reviewed_at else None,
        "error": doc.error_message,
        "media_type": doc.media_type,
    }
