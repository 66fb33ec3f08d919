"""Per-key document visibility: an uploader key with scope "own" sees only the documents it uploaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from tests.server.api_support import Service, service, synthetic_pdf


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path)


def _new_key(svc: Service, role: str, scope: str | None = None) -> dict[str, str]:
    body = {"role": role, "name": f"{role} {scope}"}
    if scope is not None:
        body["scope"] = scope
    r = svc.client.post("/v1/keys", json=body, headers=svc.h("admin"))
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["key"], "scope": r.json()["scope"]}


def _routes(doc_id: str) -> list[tuple[str, str]]:
    base = f"/v1/documents/{doc_id}"
    return [
        ("GET", base),
        ("GET", f"{base}/result"),
        ("GET", f"{base}/pages/1.png"),
        ("GET", f"{base}/history"),
        ("GET", f"{base}/export.json"),
        ("GET", f"{base}/export.csv"),
        ("GET", f"{base}/export.xlsx"),
        ("POST", f"{base}/retry"),
    ]


def _ids(svc: Service, headers: dict[str, str]) -> set[str]:
    r = svc.client.get("/v1/documents", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == len(r.json()["items"])
    return {d["id"] for d in r.json()["items"]}


def test_uploaders_see_only_their_own_documents(svc: Service) -> None:
    from tests.pdfs import text_pdf

    c = svc.client
    a = {"X-API-Key": svc.keys["uploader"]}
    b_key = _new_key(svc, "uploader")
    assert b_key.pop("scope") == "own"
    b = b_key
    done = c.post("/v1/documents", files={"file": ("a.pdf", synthetic_pdf(), "application/pdf")}, headers=a)
    failed = c.post(
        "/v1/documents",
        files={"file": ("n.pdf", text_pdf(["会议通知", "请各单位按时参加。"]), "application/pdf")},
        headers=a,
    )
    assert done.status_code == 202 and failed.status_code == 202
    done_id, failed_id = done.json()["id"], failed.json()["id"]
    assert svc.wait(done_id)["status"] == "done" and svc.wait(failed_id)["status"] == "failed"

    # The owner reaches every route.
    for method, url in _routes(done_id)[:-1]:
        assert c.request(method, url, headers=a).status_code == 200, url
    # Another uploader gets 404 (not 403) on every route, for both documents.
    for doc_id in (done_id, failed_id):
        for method, url in _routes(doc_id):
            r = c.request(method, url, headers=b)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (url, r.text)
    assert _ids(svc, a) == {done_id, failed_id}
    assert _ids(svc, b) == set()
    # B's own upload is B's alone.
    mine = c.post(
        "/v1/documents", files={"file": ("b.pdf", synthetic_pdf(year=2022), "application/pdf")}, headers=b
    )
    assert mine.status_code == 202
    b_id = mine.json()["id"]
    assert _ids(svc, b) == {b_id} and b_id not in _ids(svc, a)
    assert c.get(f"/v1/documents/{b_id}", headers=a).status_code == 404

    # Reviewers, admins and an uploader key with scope "all" see everything.
    every = {done_id, failed_id, b_id}
    all_key = _new_key(svc, "uploader", "all")
    assert all_key.pop("scope") == "all"
    for h in (svc.h("reviewer"), svc.h("admin"), all_key):
        assert _ids(svc, h) == every
        for doc_id in every:
            assert c.get(f"/v1/documents/{doc_id}", headers=h).status_code == 200
        assert c.get(f"/v1/documents/{done_id}/result", headers=h).status_code == 200
    # The retry route admits an owner (and a scope-all key) as before.
    assert c.post(f"/v1/documents/{failed_id}/retry", headers=all_key).status_code == 202
    assert svc.wait(failed_id)["status"] == "failed"
    assert c.post(f"/v1/documents/{failed_id}/retry", headers=a).status_code == 202
    # A reviewer's key reports scope all; the keys list shows scopes.
    keys = {k["role"] + ":" + k["scope"] for k in c.get("/v1/keys", headers=svc.h("admin")).json()}
    assert {"uploader:own", "uploader:all", "reviewer:all", "admin:all"} <= keys


def test_key_scope_validation(svc: Service) -> None:
    r = svc.client.post("/v1/keys", json={"role": "uploader", "scope": "some"}, headers=svc.h("admin"))
    assert r.status_code == 422
    with pytest.raises(ValueError):
        db = Database(svc.settings.database_url)
        try:
            with db.session() as s:
                repo.create_key(s, "uploader", scope="nope")
        finally:
            db.dispose()


def test_cli_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gongkai.cli import main
    from gongkai.server.storage.models import ApiKey

    url = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("GONGKAI_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    keys = {}
    for args in (["--role", "uploader"], ["--role", "uploader", "--scope", "all"], ["--role", "admin"]):
        assert main(["keys", "create", *args]) == 0
        keys[" ".join(args)] = capsys.readouterr().out.strip().split("_")[1]
    db = Database(url)
    with db.session() as s:
        scopes = {k: s.get(ApiKey, v).scope for k, v in keys.items()}  # type: ignore[union-attr]
    db.dispose()
    assert scopes == {"--role uploader": "own", "--role uploader --scope all": "all", "--role admin": "all"}


def test_migration_upgrades_a_0002_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(db, "0002")
    assert migrate.current_revision(db) == "0002"
    with db.engine.begin() as conn:
        for key_id, role in (
            ("aaaaaaaaaaaa", "uploader"),
            ("bbbbbbbbbbbb", "uploader"),
            ("cccccccccccc", "reviewer"),
        ):
            conn.execute(
                text(
                    "INSERT INTO api_keys (id, name, role, salt, secret_hash, created_at) "
                    "VALUES (:id, '', :role, 's', 'h', '2024-01-01 00:00:00')"
                ),
                {"id": key_id, "role": role},
            )
        conn.execute(
            text(
                "INSERT INTO documents (id, sha256, media_type, size, filename, status, uploaded_by, "
                "created_at, updated_at) VALUES (:id, :sha, 'application/pdf', 1, 'old.pdf', 'done', "
                "'aaaaaaaaaaaa', '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
            ),
            {"id": "0" * 32, "sha": "f" * 64},
        )
        # A row that references the document (and one the key): the upgrade must not copy those tables.
        conn.execute(
            text(
                "INSERT INTO jobs (document_id, status, stage, attempts, max_attempts, not_before, "
                "requested_by, created_at) VALUES (:id, 'done', 'done', 1, 3, '2024-01-01 00:00:00', "
                "'aaaaaaaaaaaa', '2024-01-01 00:00:00')"
            ),
            {"id": "0" * 32},
        )
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT owner_key_id FROM documents")).scalar() is None
        scopes = dict(conn.execute(text("SELECT id, scope FROM api_keys")).all())
        fks = conn.execute(text("PRAGMA foreign_key_list(documents)")).all()
        assert any(fk[2] == "api_keys" and fk[3] == "owner_key_id" for fk in fks)
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    assert scopes == {"aaaaaaaaaaaa": "own", "bbbbbbbbbbbb": "own", "cccccccccccc": "all"}
    f = repo.DocumentFilter()
    with db.session() as s:
        # A legacy row (no owner) belongs to the key that uploaded it.
        assert [d.id for d in repo.list_documents(s, f, 10, 0, owner="aaaaaaaaaaaa")[0]] == ["0" * 32]
        assert repo.list_documents(s, f, 10, 0, owner="bbbbbbbbbbbb") == ([], 0)
        assert len(repo.list_documents(s, f, 10, 0)[0]) == 1
    migrate.downgrade(db, "0002")
    assert migrate.current_revision(db) == "0002"
    migrate.upgrade(db)
    db.dispose()
