"""/healthz and /metrics: no API key, for load balancers and Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from gongkai.server.api import schemas
from gongkai.server.api.deps import DbDep, DispatcherDep, MetricsDep
from gongkai.server.api.version import package_version

router = APIRouter()


@router.get("/healthz", response_model=schemas.Health, tags=["operations"])
def healthz(response: Response, db: DbDep, dispatcher: DispatcherDep) -> Any:
    try:
        with db.session() as s:
            s.execute(text("SELECT 1"))
        database = f"ok ({db.backend})"
    except Exception as exc:
        database = f"unreachable: {type(exc).__name__}"
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
def metrics(counters: MetricsDep) -> Response:
    return Response(generate_latest(counters.registry), media_type=CONTENT_TYPE_LATEST)
