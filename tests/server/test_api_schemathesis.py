"""Property-based: schemathesis generates requests from our OpenAPI document; none may get a 5xx."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (service extra) is not installed")
from hypothesis import HealthCheck, settings  # noqa: E402

from gongkai.server.api.app import create_app  # noqa: E402
from tests.server.api_support import make_settings, seed_keys  # noqa: E402

_ROOT = Path(tempfile.mkdtemp(prefix="gongkai-schemathesis-"))
atexit.register(shutil.rmtree, _ROOT, True)
_SETTINGS = make_settings(_ROOT, workers=0, auto_migrate=False)
_KEYS = seed_keys(_SETTINGS)  # migrates too: the ASGI transport does not run the lifespan
APP = create_app(_SETTINGS, start_workers=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers={"X-API-Key": _KEYS["admin"]})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
