"""A duplicate upload by a key that cannot see the first upload: a grant; nothing of the other key leaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.models import DocumentGrant
from tests.server.api_support import Service, service, synthetic_pdf
from tests.server.postgres import fresh_database_url


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path)


def _uploader(svc: Service, name: str) -> tuple[dict[str, str], str]:
    r = svc.client.post("/v1/keys", json={"role": "uploader", "name": name}, headers=svc.h("admin"))
    assert r.status_code == 201 and r.json()["scope"] == "own", r.text
    return {"X-API-Key": r.json()["key"]}, r.json()["id"]


def _upload(svc: Service, headers: dict[str, str], data: bytes, name: str) -> Any:
    return svc.client.post("/v1/documents", files={"file": (name, data, "application/pdf")}, headers=headers)


def _grants(svc: Service) -> int:
    db = Database(svc.settings.database_url)
    try:
        with db.session() as s:
            return int(s.scalar(select(func.count()).select_from(DocumentGrant)) or 0)
    finally:
        db.dispose()


def _assert_no_trace_of(body: str, key_id: str, filename: str) -> None:
    assert key_id not in body and filename not in body, body


def test_duplicate_upload_grants_access_without_leaking_the_first_upload(svc: Service) -> None:
    c = svc.client
    a = svc.h("uploader")
    a_id = svc.keys["uploader"].split("_")[1]
    b, b_id = _uploader(svc, "b")
    other, _ = _uploader(svc, "c")
    pdf = synthetic_pdf()
    first = _upload(svc, a, pdf, "a-private-name.pdf")
    assert first.status_code == 202
    doc_id = first.json()["id"]
    assert svc.wait(doc_id)["status"] == "done"

    # B sends the same bytes: 200, the same document (it holds the file, so it gets the extraction),
    # under B's filename and key, with no trace of A's key or filename.
    second = _upload(svc, b, pdf, "b-name.pdf")
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["duplicate"] is True and body["id"] == doc_id and body["status"] == "done"
    assert body["filename"] == "b-name.pdf" and body["uploaded_by"] == b_id
    assert body.keys() == first.json().keys()
    _assert_no_trace_of(second.text, a_id, "a-private-name")

    # From now on B sees it on every reading route, and in its list, still as its own upload.
    base = f"/v1/documents/{doc_id}"
    got = c.get(base, headers=b)
    assert got.status_code == 200 and got.json()["filename"] == "b-name.pdf"
    _assert_no_trace_of(got.text, a_id, "a-private-name")
    for url in (f"{base}/result", f"{base}/pages/1.png", f"{base}/history", f"{base}/export.json"):
        assert c.get(url, headers=b).status_code == 200, url
    export = c.get(f"{base}/export.csv", headers=b)
    assert export.status_code == 200 and 'filename="b-name.csv"' in export.headers["content-disposition"]
    listed = c.get("/v1/documents", headers=b).json()
    assert [d["id"] for d in listed["items"]] == [doc_id] and listed["total"] == 1
    assert listed["items"][0]["filename"] == "b-name.pdf" and listed["items"][0]["uploaded_by"] == b_id
    _assert_no_trace_of(str(listed), a_id, "a-private-name")

    # A third uploader that did not send the bytes still gets 404 and an empty list.
    assert c.get(base, headers=other).status_code == 404
    assert c.get(f"{base}/result", headers=other).status_code == 404
    assert c.get("/v1/documents", headers=other).json()["total"] == 0

    # The owner and the keys that see all still see the first upload as it is.
    for h in (a, svc.h("reviewer")):
        mine = c.get(base, headers=h).json()
        assert mine["filename"] == "a-private-name.pdf" and mine["uploaded_by"] == a_id
    # The owner sending its own bytes again, or B again: no new grant, the same answers.
    again = _upload(svc, a, pdf, "renamed.pdf")
    assert again.status_code == 200 and again.json()["filename"] == "a-private-name.pdf"
    again = _upload(svc, b, pdf, "b-second-name.pdf")
    assert again.status_code == 200 and again.json()["filename"] == "b-name.pdf"
    assert _grants(svc) == 1


def test_concurrent_same_bytes_answer_the_same_shape(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race: B's lookup ran before A's row was committed, so B's insert hits the unique sha256 index
    (IntegrityError). B's answer must be the grant answer, the same as for a duplicate found up front."""
    a = svc.h("uploader")
    a_id = svc.keys["uploader"].split("_")[1]
    b, b_id = _uploader(svc, "b")
    pdf = synthetic_pdf(year=2022)
    first = _upload(svc, a, pdf, "a-private-name.pdf")
    assert first.status_code == 202
    doc_id = first.json()["id"]

    real = repo.find_by_sha
    calls = {"n": 0}

    def find_by_sha_losing_the_race(s: Any, sha256: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(s, sha256)  # the first lookup misses A's row

    monkeypatch.setattr(repo, "find_by_sha", find_by_sha_losing_the_race)
    raced = _upload(svc, b, pdf, "b-name.pdf")
    monkeypatch.setattr(repo, "find_by_sha", real)
    assert calls["n"] >= 2  # the race path ran: insert refused, then the duplicate answer
    assert raced.status_code == 200, raced.text
    body = raced.json()
    assert body["duplicate"] is True and body["id"] == doc_id
    assert body["filename"] == "b-name.pdf" and body["uploaded_by"] == b_id
    assert body.keys() == first.json().keys()
    _assert_no_trace_of(raced.text, a_id, "a-private-name")
    assert svc.client.get(f"/v1/documents/{doc_id}", headers=b).status_code == 200
    assert _grants(svc) == 1
    svc.wait(doc_id)


def test_grants_migration_on_postgresql() -> None:
    with fresh_database_url("gongkai_grants") as url:
        db = Database(url)
        try:
            migrate.upgrade(db)
            with db.session() as s:
                key, _ = repo.create_key(s, "uploader", "a")
                other, _ = repo.create_key(s, "uploader", "b")
                doc, _ = repo.create_document(
                    s,
                    sha256="a" * 64,
                    media_type="application/pdf",
                    size=1,
                    filename="a.pdf",
                    pages=1,
                    key_id=key.id,
                    max_attempts=3,
                )
                repo.grant_document(s, doc, other.id, "b.pdf")
                repo.grant_document(s, doc, other.id, "again.pdf")  # once per key
            with db.session() as s:
                f = repo.DocumentFilter()
                assert [d.id for d in repo.list_documents(s, f, 10, 0, owner=other.id)[0]] == [doc.id]
                assert repo.grants_for(s, other.id, [doc.id])[doc.id].filename == "b.pdf"
            migrate.downgrade(db, "0004")
            migrate.upgrade(db)
        finally:
            db.dispose()
