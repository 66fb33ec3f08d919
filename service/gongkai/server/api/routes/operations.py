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
    alive_fn, configured_fn = getattr(dispatcher, "alive", None), getattr(dispatcher, "configured", None)
    alive = alive_fn() if callable(alive_fn) else None
    configured = configured_fn() if callable(configured_fn) else None
    jobs = type(dispatcher).__name__ + (f" ({alive} workers alive)" if alive is not None else "")
    if alive is not None and configured is not None:
        jobs = f"{type(dispatcher).__name__} ({alive} of {configured} workers alive)"
    # Workers down (killed, out of memory) mean uploads would wait: say so while the pool restarts them.
    ok = database.startswith("ok") and (alive is None or configured is None or alive >= configured)
    response.status_code = 200 if ok else 503
    return {
        "status": "ok" if ok else "degraded",
        "database": database,
        "jobs": jobs,
        "version": package_version(),
        "workers_alive": alive,
        "workers_configured": configured,
    }


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
    tags=["operations"],
)
def metrics(counters: MetricsDep) -> Response:
    return Response(generate_latest(counters.registry), media_type=CONTENT_TYPE_LATEST)
