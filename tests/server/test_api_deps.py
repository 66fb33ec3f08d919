"""The API's typed dependencies: each component comes from app.state through one provider, and a
provider whose component is missing fails with a message that says so."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from fastapi import FastAPI
from starlette.requests import Request

from gongkai.server.api import deps
from gongkai.server.api.app import create_app
from tests.server.api_support import make_settings

Provider = Callable[[Request], Coroutine[Any, Any, object]]
PROVIDERS: dict[str, Provider] = {
    "settings": deps.get_settings,
    "db": deps.get_db,
    "store": deps.get_store,
    "dispatcher": deps.get_dispatcher,
    "metrics": deps.get_metrics,
}
API = Path(__file__).resolve().parents[2] / "service" / "gongkai" / "server" / "api"


def _request(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "method": "GET", "path": "/", "headers": []})


def test_providers_give_the_apps_components(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), start_workers=False)
    try:
        for name, provider in PROVIDERS.items():
            assert asyncio.run(provider(_request(app))) is getattr(app.state, name)
    finally:
        app.state.db.dispose()


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_missing_component_fails_clearly(name: str) -> None:
    with pytest.raises(RuntimeError, match=rf"app\.state\.{name} is not set up.*create_app"):
        asyncio.run(PROVIDERS[name](_request(FastAPI())))


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_component_of_the_wrong_kind_fails_clearly(name: str) -> None:
    app = FastAPI()
    setattr(app.state, name, "not a component")
    with pytest.raises(RuntimeError, match=rf"app\.state\.{name} is not set up"):
        asyncio.run(PROVIDERS[name](_request(app)))


def test_only_the_dependencies_read_app_state() -> None:
    readers = sorted(
        str(path.relative_to(API)) for path in API.rglob("*.py") if "app.state" in path.read_text("utf-8")
    )
    # app.py puts the components there; deps.py is the one place that takes them out.
    assert readers == ["app.py", "deps.py"]
