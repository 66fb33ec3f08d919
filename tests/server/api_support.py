"""Shared helpers for the service tests (no tests here): settings in a temp dir, keys, documents."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from fastapi.testclient import TestClient

from gongkai.server.api.app import create_app
from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.settings import Settings

ROLES = ("uploader", "reviewer", "admin")


def make_settings(root: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{root / 'gongkai.db'}",
        data_dir=root / "data",
        workers=1,
        pool="thread",
        poll_seconds=0.1,
        lease_seconds=30,
    )
    return base.with_overrides(**overrides)


def seed_keys(settings: Settings) -> dict[str, str]:
    db = Database(settings.database_url)
    migrate.upgrade(db)
    out = {}
    with db.session() as s:
        for role in ROLES:
            out[role] = repo.create_key(s, role, f"test {role}")[1]
    db.dispose()
    return out


@dataclass
class Service:
    client: TestClient
    settings: Settings
    keys: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}

    def upload(self, data: bytes, name: str = "report.pdf", role: str = "uploader") -> Any:
        return self.client.post(
            "/v1/documents", files={"file": (name, data, "application/octet-stream")}, headers=self.h(role)
        )

    def wait(self, doc_id: str, timeout: float = 90.0) -> dict[str, Any]:
        """Poll until the job settles (a bound on waiting, not a speed assertion)."""
        end = time.monotonic() + timeout
        while True:
            d = self.client.get(f"/v1/documents/{doc_id}", headers=self.h("uploader")).json()
            if d["status"] in ("done", "failed") or time.monotonic() > end:
                return d  # type: ignore[no-any-return]
            time.sleep(0.05)


def service(tmp_path: Path, **overrides: Any) -> Iterator[Service]:
    settings = make_settings(tmp_path, **overrides)
    keys = seed_keys(settings)
    with TestClient(create_app(settings)) as client:
        yield Service(client, settings, keys)


@cache
def synthetic_pdf(agency: str = "某某市某某区人民政府", year: int = 2023, new: int = 5) -> bytes:
    """A born-digital report with consistent tables (every identity passes)."""
    from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf
    from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec

    spec = blank_spec("2021", year, agency, value="0")
    granted = new - new // 2
    for cid, v in (
        ("requests.new.natural_person", new),
        ("requests.new.total", new),
        ("requests.granted.natural_person", granted),
        ("requests.granted.total", granted),
        ("requests.partial.natural_person", new // 2),
        ("requests.partial.total", new // 2),
        ("requests.results_total.natural_person", new),
        ("requests.results_total.total", new),
    ):
        spec = spec.with_cell(cid, str(v))
    return render_pdf(spec, RenderOptions(page_header=spec.title))


def stored_objects(settings: Settings) -> list[Path]:
    return [p for p in (Path(settings.data_dir) / "objects").rglob("*") if p.is_file()]


def temp_files(settings: Settings) -> list[Path]:
    return [p for p in (Path(settings.data_dir) / "tmp").rglob("*") if p.is_file()]


def redis_url(db: int) -> str | None:
    """redis://127.0.0.1:6379/<db> when a Redis answers PING there, else None (the test skips).
    Each test that uses Redis has its own db number and flushes only that one."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                return None
    except OSError:
        return None
    return f"redis://127.0.0.1:6379/{db}"


def until(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``cond`` until it returns something true (a bound on waiting, not a speed assertion)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
