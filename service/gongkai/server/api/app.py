"""The FastAPI application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gongkai.server.api import errors
from gongkai.server.api.metrics import Metrics, route_template
from gongkai.server.api.routes import ROUTERS
from gongkai.server.api.version import package_version
from gongkai.server.jobs.pool import Dispatcher, make_dispatcher
from gongkai.server.storage import migrate
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings

log = logging.getLogger("gongkai.api")
# Room for the multipart envelope around the file itself.
_MULTIPART_SLACK = 64 * 1024


class BodyLimit:
    """Refuses request bodies over the upload limit while they stream in, before anything is stored."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes + _MULTIPART_SLACK
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
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
                await _send_413(send, limit)


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
    )
    app.state.settings = settings
    app.state.db = db
    app.state.store = LocalFileStore(settings.data_dir)
    app.state.dispatcher = dispatcher or make_dispatcher(settings, db)
    app.state.metrics = Metrics(db)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)

    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    # Added last = outermost: it also sees the 413s BodyLimit sends.
    app.add_middleware(Measure, metrics=app.state.metrics)
    return app
