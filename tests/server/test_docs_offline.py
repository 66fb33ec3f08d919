"""/docs works air-gapped: Swagger UI's assets are served by the service itself, never from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest.importorskip("swagger_ui_bundle", reason="swagger-ui-bundle (service extra) is not installed")

from fastapi.testclient import TestClient

from gongkai.server.api.app import create_app
from tests.server.api_support import make_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path), start_workers=False)) as c:
        yield c


def _urls(html: str) -> list[str]:
    return re.findall(r"""(?:href|src|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)


def test_docs_reference_only_local_urls(client: TestClient) -> None:
    resp = client.get("/docs")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    urls = _urls(html)
    assert urls, html
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)


def test_docs_assets_are_served(client: TestClient) -> None:
    urls = _urls(client.get("/docs").text)
    for url in [u for u in urls if u.endswith((".js", ".css", ".png"))]:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert client.get("/openapi.json").status_code == 200


def test_docs_respect_a_proxy_prefix(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), start_workers=False)
    with TestClient(app, root_path="/gongkai") as c:
        urls = _urls(c.get("/docs").text)
    assert urls and all(u.startswith("/gongkai/") for u in urls), urls


def test_no_cdn_redoc(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert "http" not in client.get("/docs/oauth2-redirect").text.replace("window.location", "")
