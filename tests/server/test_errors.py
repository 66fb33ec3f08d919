"""Unhandled errors answer the JSON error body with a request id, and are logged under that id."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa

from gongkai.server.api.app import create_app
from gongkai.server.storage import repository as repo
from tests.server.api_support import make_settings, seed_keys


def _locked() -> Exception:
    return sa.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))


def _disk_full() -> Exception:
    return OSError(errno.ENOSPC, "No space left on device")


def _wrapped_disk_full() -> Exception:
    try:
        raise _disk_full()
    except OSError as exc:
        try:
            raise RuntimeError("storing failed") from exc
        except RuntimeError as wrapped:
            return wrapped


# kind: (make the exception, status, code)
ERRORS: dict[str, Any] = {
    "locked": (_locked, 503, "unavailable"),
    "sqlite_locked": (lambda: sqlite3.OperationalError("database is locked"), 503, "unavailable"),
    "connection": (lambda: ConnectionRefusedError("redis is away"), 503, "unavailable"),
    "disk_full": (_disk_full, 507, "insufficient_storage"),
    "sqlite_full": (
        lambda: sa.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),
        507,
        "insufficient_storage",
    ),
    "wrapped_disk_full": (_wrapped_disk_full, 507, "insufficient_storage"),  # found through the chain
    "bug": (lambda: KeyError("secret internals"), 500, "internal_error"),
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(tmp_path)
    keys = seed_keys(settings)
    app: FastAPI = create_app(settings, start_workers=False)

    @app.get("/test-only/raise/{kind}")
    def _raise(kind: str) -> None:
        raise ERRORS[kind][0]()

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, keys


def _check(resp: Any, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    rid = body["error"]["request_id"]
    assert rid and resp.headers["x-request-id"] == rid
    return str(rid)


@pytest.mark.parametrize("kind", list(ERRORS))
def test_unhandled_errors_are_json_with_request_id(
    client: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    c, _ = client
    _, status, code = ERRORS[kind]
    with caplog.at_level(logging.ERROR, logger="gongkai.api"):
        resp = c.get(f"/test-only/raise/{kind}")
    rid = _check(resp, status, code)
    assert "secret internals" not in resp.text  # details stay in the log
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == rid]
    assert len(logged) == 1
    assert rid in logged[0].getMessage()
    assert logged[0].exc_info is not None  # the traceback
    if status == 503:
        assert resp.headers["retry-after"]


def test_client_request_id_is_kept_when_sane(
    client: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    c, _ = client
    with caplog.at_level(logging.ERROR, logger="gongkai.api"):
        resp = c.get("/test-only/raise/bug", headers={"X-Request-ID": "trace-42.abc"})
    assert _check(resp, 500, "internal_error") == "trace-42.abc"
    assert any("trace-42.abc" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("bad", ["x" * 300, "has space", "a<script>", "-leading-dash", ""])
def test_insane_client_request_id_is_replaced(client: tuple[TestClient, dict[str, str]], bad: str) -> None:
    c, _ = client
    resp = c.get("/test-only/raise/bug", headers={"X-Request-ID": bad})
    rid = _check(resp, 500, "internal_error")
    assert rid != bad and len(rid) == 32


def test_every_response_carries_a_request_id(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    assert c.get("/healthz").headers["x-request-id"]
    assert c.get("/v1/documents").headers["x-request-id"]  # 401
    assert c.get("/metrics", headers={"X-Request-ID": "abc"}).headers["x-request-id"] == "abc"


def test_database_locked_in_a_real_route(
    client: tuple[TestClient, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    c, keys = client

    def locked(*_: Any, **__: Any) -> Any:
        raise _locked()

    monkeypatch.setattr(repo, "get_document", locked)
    with caplog.at_level(logging.ERROR, logger="gongkai.api"):
        resp = c.get("/v1/documents/" + "0" * 32, headers={"X-API-Key": keys["uploader"]})
    rid = _check(resp, 503, "unavailable")
    assert any(getattr(r, "request_id", None) == rid for r in caplog.records)
    # The metrics see the status the client got, by route template.
    monkeypatch.undo()
    text = c.get("/metrics").text
    assert 'route="/v1/documents/{document_id}",status="503"' in text


def _too_large_count(c: TestClient) -> float:
    for line in c.get("/metrics").text.splitlines():
        if line.startswith('gongkai_uploads_total{outcome="too_large"}'):
            return float(line.split()[-1])
    return 0.0


def test_uploads_refused_by_the_body_limit_are_counted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_bytes=1000)
    keys = seed_keys(settings)
    big = b"%PDF-1.7\n" + b"0" * (200 * 1024)
    boundary = "gongkaitestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams in
        yield head
        for i in range(0, len(big), 16 * 1024):
            yield big[i : i + 16 * 1024]
        yield tail

    headers = {"X-API-Key": keys["uploader"], "Content-Type": f"multipart/form-data; boundary={boundary}"}
    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        before = _too_large_count(c)
        streamed = c.post("/v1/documents", content=chunks(), headers=headers)
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
        assert "content-length" not in {k.lower() for k in streamed.request.headers}
        assert _too_large_count(c) == before + 1
        declared = c.post("/v1/documents", content=head + big + tail, headers=headers)  # refused up front
        assert declared.status_code == 413
        assert _too_large_count(c) == before + 2
        # A big body elsewhere is refused too, but it is not an upload.
        other = c.post("/v1/keys", content=b"{" + b" " * (200 * 1024) + b"}", headers=headers)
        assert other.status_code == 413
        assert _too_large_count(c) == before + 2
