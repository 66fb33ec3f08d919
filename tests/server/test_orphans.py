"""Start-up sweep: crash leftovers (spool files, objects with no row) go once past the grace period."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")

from fastapi.testclient import TestClient

from gongkai.server.api.app import create_app
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings
from tests.server.api_support import make_settings, seed_keys, stored_objects, synthetic_pdf, temp_files

HOUR = 3600.0


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def _put(store: LocalFileStore, data: bytes, age: float = 0.0) -> str:
    sha = hashlib.sha256(data).hexdigest()
    src = store.tmp / f"in-{sha[:8]}.bin"
    src.write_bytes(data)
    store.put_file(src, sha)
    _age(store.path_for(sha), age)
    return sha


def _part(store: LocalFileStore, name: str, age: float = 0.0) -> Path:
    p = store.tmp / name
    p.write_bytes(b"half an upload")
    _age(p, age)
    return p


def test_store_sweep_removes_only_old_orphans(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "data")
    old_part = _part(store, "upload-old.part", 2 * HOUR)
    fresh_part = _part(store, "upload-fresh.part")
    old_orphan = _put(store, b"old orphan", 2 * HOUR)
    store.put_derived(old_orphan, "page-1-110.png", b"png")
    fresh_orphan = _put(store, b"fresh orphan")
    old_known = _put(store, b"old but referenced", 2 * HOUR)

    removed = store.sweep_orphans({old_known}, older_than=HOUR)

    assert set(removed) == {
        old_part,
        store.path_for(old_orphan),
        store.derived_path(old_orphan, "page-1-110.png"),
    }
    assert not old_part.exists() and not store.exists(old_orphan)
    assert fresh_part.exists() and store.exists(fresh_orphan) and store.exists(old_known)


def test_reusing_an_orphan_object_refreshes_it(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "data")
    sha = _put(store, b"same bytes", 2 * HOUR)
    _put(store, b"same bytes")  # a new upload of the same file finds the object already there
    assert store.sweep_orphans(set(), older_than=HOUR) == []
    assert store.exists(sha)


def test_api_start_up_sweeps_orphans(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, workers=0)
    keys = seed_keys(settings)
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/v1/documents",
            files={"file": ("r.pdf", synthetic_pdf(), "application/octet-stream")},
            headers={"X-API-Key": keys["uploader"]},
        )
        assert r.status_code == 202
    (referenced,) = stored_objects(settings)
    _age(referenced, 2 * HOUR)
    store = LocalFileStore(settings.data_dir)
    old_part = _part(store, "upload-crashed.part", 2 * HOUR)
    fresh_part = _part(store, "upload-in-flight.part")
    old_orphan = store.path_for(_put(store, b"stored, then the process died", 2 * HOUR))
    fresh_orphan = store.path_for(_put(store, b"stored a moment ago"))

    with caplog.at_level(logging.INFO, logger="gongkai.api"), TestClient(create_app(settings)):
        pass

    assert set(stored_objects(settings)) == {referenced, fresh_orphan}
    assert temp_files(settings) == [fresh_part]
    assert not old_part.exists() and not old_orphan.exists()
    assert str(old_orphan) in caplog.text and str(old_part) in caplog.text


def test_grace_period_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().orphan_grace_seconds == 3600
    monkeypatch.setenv("GONGKAI_ORPHAN_GRACE_SECONDS", "60")
    assert Settings.from_env().orphan_grace_seconds == 60
