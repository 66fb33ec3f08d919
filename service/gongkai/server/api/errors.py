"""Every error leaves the API as JSON: ``{"error": {"code": …, "message": …}}``."""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gongkai.errors import GongkaiError

log = logging.getLogger("gongkai.api")
REQUEST_ID_HEADER = "X-Request-ID"
# A client's request id is echoed and logged, so only a short, printable token is taken as is.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}

# The user's fault, by pipeline error code.
STATUS_BY_CODE = {
    "unsupported_type": 415,
    "too_large": 413,
    "encrypted": 422,
    "corrupt": 422,
    "empty": 422,
    "not_a_report": 422,
    "needs_ocr": 422,
    "no_text": 422,
    "bad_input": 400,
}


class BodyTooLarge(Exception):
    """Raised from the body stream when a request goes past the upload limit."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def from_pipeline(exc: GongkaiError) -> ApiError:
    return ApiError(STATUS_BY_CODE.get(exc.code, 400), exc.code, str(exc))


def request_id_from(raw: bytes | str | None) -> str:
    """The client's X-Request-ID if it is a sane token, else a fresh one."""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    if raw and _SANE_REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (``raise … from``, SQLAlchemy's ``.orig``), without cycles."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(out) < 16:
        e = todo.pop()
        if e is None or any(e is seen for seen in out):
            continue
        out.append(e)
        orig = getattr(e, "orig", None)
        todo += [e.__context__, e.__cause__, orig if isinstance(orig, BaseException) else None]
    return out


def classify(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) for an exception no other handler took. The message is generic:
    internals stay in the log, under the request id."""
    from sqlalchemy import exc as sa

    chain = _chain(exc)
    for e in chain:
        if isinstance(e, OSError) and e.errno in _NO_SPACE:
            return 507, "insufficient_storage", "the server is out of storage space; try again later"
        if isinstance(e, (sa.OperationalError, sqlite3.OperationalError)) and "disk is full" in str(e):
            return 507, "insufficient_storage", "the server is out of storage space; try again later"
    busy = (sa.OperationalError, sa.DisconnectionError, sa.TimeoutError, sqlite3.OperationalError)
    for e in chain:
        if isinstance(e, busy):
            return 503, "unavailable", "the database is busy or unavailable; try again shortly"
        if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
            return 503, "unavailable", "the database is busy or unavailable; try again shortly"
        if isinstance(e, ConnectionError):
            return 503, "unavailable", "a backing service is unavailable; try again shortly"
    return 500, "internal_error", "an unexpected error occurred"


def unhandled(exc: BaseException, request_id: str, method: str, path: str) -> JSONResponse:
    """Log ``exc`` with its traceback and the request id; the JSON answer for the client."""
    status, code, message = classify(exc)
    log.error(
        "unhandled %s on %s %s (request id %s) -> %s",
        type(exc).__name__,
        method,
        path,
        request_id,
        status,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    headers = {REQUEST_ID_HEADER: request_id}
    if status == 503:
        headers["Retry-After"] = "5"
    return JSONResponse(error_body(code, message, request_id=request_id), status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), exc.status, headers=headers)

    @app.exception_handler(GongkaiError)
    async def _pipeline_error(_: Request, exc: GongkaiError) -> JSONResponse:
        err = from_pipeline(exc)
        return JSONResponse(error_body(err.code, err.message), err.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [str(x) for x in e.get("loc", ())], "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        message = "invalid request"
        if problems:
            loc, msg = problems[0]["loc"], str(problems[0]["message"])
            message = f"{'.'.join(loc)}: {msg}" if loc else msg
        return JSONResponse(error_body("invalid_request", message, problems=problems), 422)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Only reached for errors outside the RequestContext middleware, which handles the rest.
        state = request.scope.get("state") or {}
        rid = state.get("request_id") or request_id_from(request.headers.get(REQUEST_ID_HEADER))
        return unhandled(exc, rid, request.method, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
        )
