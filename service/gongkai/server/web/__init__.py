"""The review workspace: server-rendered pages at /review, served by `gongkai serve` itself.

``install(app)`` adds the pages, their static files (our own CSS and JavaScript modules, nothing from
a CDN) and the handlers that turn a missing session into a redirect to sign-in and an error into an
HTML page (the JSON API keeps its JSON errors).
"""

from __future__ import annotations

import functools
import inspect
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from gongkai.fonts import first_face_as_sfnt, packaged_cjk_font
from gongkai.server.api.errors import ApiError
from gongkai.server.web.routes import HERE, SignInRequired, render, router

STATIC_PATH = "/review/static"


def install(app: FastAPI) -> None:
    app.include_router(router)
    font = packaged_cjk_font()  # before the static mount, which would answer 404
    if font is not None:
        # A CJK face for browsers that have none (review.css lists it after the system's own).
        face = functools.cache(lambda: first_face_as_sfnt(font.read_bytes()))

        @app.get(f"{STATIC_PATH}/fonts/cjk.ttf", include_in_schema=False)
        def cjk_font() -> Response:
            return Response(face(), media_type="font/ttf", headers={"Cache-Control": "public, max-age=86400"})

    app.mount(STATIC_PATH, StaticFiles(directory=str(HERE / "static")), name="review-static")
    api_error_json = app.exception_handlers[ApiError]

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(f"/review/sign-in?next={quote(exc.next_url, safe='/')}", status_code=303)

    async def api_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/review/") or request.url.path == "/review":
            assert isinstance(exc, ApiError)
            return render(request, "error.html", status=exc.status, error=exc)
        answer = api_error_json(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(SignInRequired, sign_in_first)
    app.add_exception_handler(ApiError, api_error)
