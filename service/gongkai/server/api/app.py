"""The FastAPI application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gongkai.server import web
from gongkai.server.api import errors
from gongkai.server.api.metrics import Metrics, route_template
from gongkai.server.api.routes import ROUTERS
from gongkai.server.api.version import package_version
from gongkai.server.jobs.pool import Dispatcher, make_dispatcher
from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings

log = logging.getLogger("gongkai.api")
# Room for the multipart envelope around the file itself.
_MULTIPART_SLACK = 64 * 1024


class BodyLimit:
    """Refuses request bodies over the upload limit while they stream in, before anything is stored."""

    def __init__(self, app: ASGIApp, max_bytes: int, metrics: Metrics | None = None) -> None:
        self.app, self.max_bytes, self.metrics = app, max_bytes, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes + _MULTIPART_SLACK
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            self._count(scope)
            await _send_413(send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise errors.BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except errors.BodyTooLarge:
            if not started:
                self._count(scope)
                await _send_413(send, limit)

    def _count(self, scope: Scope) -> None:
        if self.metrics is not None:
            self.metrics.body_refused(scope)


class RequestContext:
    """Gives every request an id (the client's sane X-Request-ID, else a new one), echoes it in the
    X-Request-ID response header, and turns any exception no handler took into the JSON error body
    (503 database busy/unavailable, 507 out of space, 500 otherwise), logged with that id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = errors.request_id_from(dict(scope.get("headers") or []).get(b"x-request-id"))
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def tagging_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode("latin-1"))]}
            await send(message)

        try:
            await self.app(scope, receive, tagging_send)
        except Exception as exc:
            if started:  # too late for an error body; the server closes the connection
                raise
            response = errors.unhandled(exc, rid, scope["method"], route_template(scope))
            await response(scope, receive, send)


class Measure:
    """Counts requests and their latency by route template (a pure ASGI middleware, so errors
    raised from the body stream pass through unwrapped)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            self.metrics.observe(scope["method"], route_template(scope), status, started)


async def _send_413(send: Send, limit: int) -> None:
    from fastapi.responses import JSONResponse

    body = JSONResponse(
        errors.error_body("too_large", f"the request body is over the limit of {limit} bytes"), 413
    )
    await send({"type": "http.response.start", "status": 413, "headers": body.raw_headers})
    await send({"type": "http.response.body", "body": body.body})


def create_app(
    settings: Settings | None = None, *, dispatcher: Dispatcher | None = None, start_workers: bool = True
) -> FastAPI:
    settings = settings or Settings.from_env()
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            migrate.upgrade(db)
        sweep_orphans(settings, db, app.state.store)
        if start_workers:
            app.state.dispatcher.start()
        try:
            yield
        finally:
            app.state.dispatcher.stop()
            db.dispose()

    app = FastAPI(
        title="Gongkai",
        version=package_version(),
        description=(
            "Upload government information disclosure annual reports (政府信息公开工作年度报告); get the "
            "statutory tables back as checked data; review and correct them. Every route under /v1 needs "
            "an API key (`gongkai keys create --role …`)."
        ),
        lifespan=lifespan,
        # Served from local assets below: the service must work air-gapped.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.store = LocalFileStore(settings.data_dir)
    app.state.dispatcher = dispatcher or make_dispatcher(settings, db)
    app.state.metrics = Metrics(db)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    _self_hosted_docs(app)
    web.install(app)  # the review workspace at /review

    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes, metrics=app.state.metrics)
    app.add_middleware(RequestContext)
    # Added last = outermost: it also sees the 413s BodyLimit sends and the errors RequestContext answers.
    app.add_middleware(Measure, metrics=app.state.metrics)
    return app


def sweep_orphans(settings: Settings, db: Database, store: LocalFileStore) -> list[Path]:
    """Delete what a crash left behind: upload spool files, and stored objects no document references,
    once older than ``settings.orphan_grace_seconds``. Never fatal: start-up goes on regardless."""
    try:
        with db.session() as s:
            known = repo.referenced_shas(s)
        removed = store.sweep_orphans(known, settings.orphan_grace_seconds)
    except Exception:
        log.exception("orphan sweep failed; start-up continues")
        return []
    for path in removed:
        log.info("removed orphaned file %s", path)
    if removed:
        log.warning("removed %d orphaned file(s) left by an earlier crash", len(removed))
    return removed


DOCS_STATIC = "/docs-static"


def _self_hosted_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets of the swagger-ui-bundle package (Apache-2.0), not a CDN.
    ReDoc has no local asset, so there is no /redoc. Without the package, /docs is simply absent."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        log.warning("swagger-ui-bundle is not installed: no /docs (the OpenAPI schema is at /openapi.json)")
        return
    app.mount(DOCS_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")  # behind a proxy prefix
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - API docs",
            oauth2_redirect_url=root + oauth2_redirect_url,
            swagger_js_url=f"{root}{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_STATIC}/favicon-32x32.png",
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
