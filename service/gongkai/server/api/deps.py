"""Typed dependencies: the app's components, each read from ``app.state`` here and nowhere else.

``create_app`` puts them there; a route takes e.g. ``db: DbDep`` instead of ``request.app.state.db``.
The providers are ``async`` only so that FastAPI calls them on the event loop instead of sending
each one to the thread pool: they do no I/O.
"""

from __future__ import annotations

from typing import Annotated, TypeVar, cast

from fastapi import Depends, Request

from gongkai.server.api.metrics import Metrics
from gongkai.server.jobs.pool import Dispatcher
from gongkai.server.storage.db import Database
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings

T = TypeVar("T")


def _missing(name: str) -> RuntimeError:
    return RuntimeError(
        f"app.state.{name} is not set up: build the app with gongkai.server.api.app.create_app()"
    )


def _component(request: Request, name: str, kind: type[T]) -> T:
    value = getattr(request.app.state, name, None)
    if not isinstance(value, kind):
        raise _missing(name)
    return value


async def get_settings(request: Request) -> Settings:
    return _component(request, "settings", Settings)


async def get_db(request: Request) -> Database:
    return _component(request, "db", Database)


async def get_store(request: Request) -> LocalFileStore:
    return _component(request, "store", LocalFileStore)


async def get_dispatcher(request: Request) -> Dispatcher:
    # A protocol, so no isinstance: anything that can be notified of a job will do.
    value = getattr(request.app.state, "dispatcher", None)
    if not callable(getattr(value, "notify", None)):
        raise _missing("dispatcher")
    return cast(Dispatcher, value)


async def get_metrics(request: Request) -> Metrics:
    return _component(request, "metrics", Metrics)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
StoreDep = Annotated[LocalFileStore, Depends(get_store)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
