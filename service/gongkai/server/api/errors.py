"""Every error leaves the API as JSON: ``{"error": {"code": …, "message": …}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gongkai.errors import GongkaiError

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

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
        )
