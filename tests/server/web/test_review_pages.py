"""The review workspace's pages and sessions, without a browser: sign-in, cookies, CSRF, roles,
the queue's filters, the reviewed state, and the testability contract of the document view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gongkai.pipeline.schema import load_format
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from tests.conftest import REPO
from tests.server.api_support import Service, service

SYNTHETIC_PDF = REPO / "tests" / "fixtures" / "synthetic" / "s2025-0000-2021-pdf.pdf"


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path)


def sign_in(client: TestClient, key: str, next_url: str = "/review") -> Any:
    page = client.get("/review/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(
        "/review/sign-in",
        data={"api_key": key, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


def csrf_of(client: TestClient) -> str:
    page = client.get("/review")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def done_document(svc: Service, role: str = "reviewer") -> str:
    r = svc.upload(SYNTHETIC_PDF.read_bytes(), "synthetic.pdf", role=role)
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]
    for _ in range(1200):
        d = svc.client.get(f"/v1/documents/{doc_id}", headers=svc.h("admin")).json()
        if d["status"] in ("done", "failed"):
            break
        import time

        time.sleep(0.05)
    assert d["status"] == "done", d
    return str(doc_id)


def test_signed_out_pages_redirect_to_sign_in(svc: Service) -> None:
    for path in ("/review", "/review/documents/" + "0" * 32, "/review/keys", "/review/next"):
        r = svc.client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/review/sign-in?next=/review"), r.headers["location"]


def test_sign_in_sets_a_strict_http_only_expiring_cookie(svc: Service) -> None:
    r = sign_in(svc.client, svc.keys["reviewer"], "/review?sort=newest")
    assert r.status_code == 303 and r.headers["location"] == "/review?sort=newest"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("gongkai_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert f"Max-Age={svc.settings.session_hours * 3600}" in cookie
    page = svc.client.get("/review")
    assert page.status_code == 200 and "reviewer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_sign_in_refuses_a_bad_key_a_missing_form_token_and_an_open_redirect(svc: Service) -> None:
    assert sign_in(svc.client, "gk_not_a_key").status_code == 401
    forged = svc.client.post("/review/sign-in", data={"api_key": svc.keys["reviewer"], "csrf_token": "x"})
    assert forged.status_code == 403
    r = sign_in(svc.client, svc.keys["reviewer"], "https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/review"


def test_a_session_write_needs_its_csrf_token(svc: Service) -> None:
    doc_id = done_document(svc)
    sign_in(svc.client, svc.keys["reviewer"])
    url = f"/v1/documents/{doc_id}/cells/requests.new.total"
    assert svc.client.patch(url, json={"value": 7}).status_code == 403  # the cookie alone
    assert svc.client.patch(url, json={"value": 7}, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    ok = svc.client.patch(url, json={"value": 7}, headers={"X-CSRF-Token": csrf_of(svc.client)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["cell"]["value"] == 7
    # Reads need no token.
    assert svc.client.get(f"/v1/documents/{doc_id}/result").status_code == 200


def test_sign_out_ends_the_session_server_side(svc: Service) -> None:
    sign_in(svc.client, svc.keys["reviewer"])
    token = svc.client.cookies.get("gongkai_session")
    csrf = csrf_of(svc.client)
    r = svc.client.post("/review/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review/sign-in"
    # The old cookie, replayed, no longer works.
    svc.client.cookies.set("gongkai_session", token or "")
    assert svc.client.get("/review", follow_redirects=False).status_code == 303
    assert svc.client.get("/v1/documents").status_code == 401


def test_sign_out_without_the_form_token_is_refused(svc: Service) -> None:
    sign_in(svc.client, svc.keys["reviewer"])
    assert svc.client.post("/review/sign-out", data={"csrf_token": "nope"}).status_code == 403
    assert svc.client.get("/review").status_code == 200  # still signed in


def test_revoking_the_key_ends_its_sessions(svc: Service) -> None:
    sign_in(svc.client, svc.keys["reviewer"])
    db = Database(svc.settings.database_url)
    with db.session() as s:
        key = repo.verify_key(s, svc.keys["reviewer"])
        assert key is not None
        repo.revoke_key(s, key.id, None)
    db.dispose()
    assert svc.client.get("/review", follow_redirects=False).status_code == 303


def test_uploader_session_has_no_edit_controls_and_cannot_write(svc: Service) -> None:
    doc_id = done_document(svc, role="uploader")
    sign_in(svc.client, svc.keys["uploader"])
    page = svc.client.get(f"/review/documents/{doc_id}")
    assert page.status_code == 200
    assert "data-cell-id=" in page.text and "data-editable" not in page.text
    assert 'id="reason"' not in page.text and "Mark reviewed" not in page.text
    csrf = csrf_of(svc.client)
    patch = svc.client.patch(
        f"/v1/documents/{doc_id}/cells/requests.new.total", json={"value": 1}, headers={"X-CSRF-Token": csrf}
    )
    assert patch.status_code == 403
    form = svc.client.post(
        f"/review/documents/{doc_id}/reviewed", data={"csrf_token": csrf, "reviewed": "yes"}
    )
    assert form.status_code == 403
    assert svc.client.get("/review/keys").status_code == 403


def test_document_view_keeps_the_testability_contract(svc: Service) -> None:
    doc_id = done_document(svc)
    sign_in(svc.client, svc.keys["reviewer"])
    html = svc.client.get(f"/review/documents/{doc_id}").text
    result = svc.client.get(f"/v1/documents/{doc_id}/result").json()
    cell_ids = re.findall(r'data-cell-id="([^"]+)"', html)
    assert set(load_format(result["format"]).cells) <= set(cell_ids)
    assert len(cell_ids) == len(set(cell_ids))  # one element per cell
    editable = re.findall(r'<td[^>]*data-cell-id="([^"]+)"[^>]*data-editable="true"', html)
    assert set(editable) == set(cell_ids)
    checks = dict(re.findall(r'data-check-id="([^"]+)" data-status="([^"]+)"', html))
    assert checks == {c["id"]: c["status"] for c in result["checks"]}
    # Failing and not-assessable identities first.
    order = [s for _, s in re.findall(r'data-check-id="([^"]+)" data-status="([^"]+)"', html)]
    rank = {"fail": 0, "not_assessable": 1, "warn": 2, "pass": 3}
    assert order == sorted(order, key=rank.__getitem__)


def test_reviewed_state_and_next_needing_review(svc: Service) -> None:
    doc_id = done_document(svc)
    sign_in(svc.client, svc.keys["reviewer"])
    csrf = csrf_of(svc.client)
    # Make it need review: a failing check from a wrong total.
    r = svc.client.patch(
        f"/v1/documents/{doc_id}/cells/requests.new.total",
        json={"value": 999999, "reason": "test"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["failing_checks"] > 0
    nxt = svc.client.get("/review/next", follow_redirects=False)
    assert nxt.headers["location"] == f"/review/documents/{doc_id}"
    # "Next" from the only document needing review: there is no other one.
    again = svc.client.get(f"/review/next?after={doc_id}", follow_redirects=False)
    assert again.headers["location"].startswith("/review?review=yes")
    done = svc.client.post(
        f"/review/documents/{doc_id}/reviewed",
        data={"csrf_token": csrf, "reviewed": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    d = svc.client.get(f"/v1/documents/{doc_id}").json()
    assert d["reviewed_by"] and d["reviewed_at"]
    # Reviewed documents leave the "needs review" queue.
    assert svc.client.get("/review/next", follow_redirects=False).headers["location"].startswith("/review?")
    # The API route does the same.
    r = svc.client.put(
        f"/v1/documents/{doc_id}/review-state", json={"reviewed": False}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and r.json()["reviewed_at"] is None


def test_queue_filters_sorts_and_pages(svc: Service) -> None:
    doc_id = done_document(svc)
    sign_in(svc.client, svc.keys["reviewer"])
    page = svc.client.get("/review").text
    assert f'data-document-id="{doc_id}"' in page
    assert f'data-document-id="{doc_id}"' not in svc.client.get("/review?status=failed").text
    assert f'data-document-id="{doc_id}"' not in svc.client.get("/review?year=1999").text
    assert f'data-document-id="{doc_id}"' in svc.client.get("/review?status=done&sort=agency").text
    # Nonsense parameters are ignored, not a 500.
    assert svc.client.get("/review?sort=evil&year=abc&status=x&page=3").status_code == 200
    assert svc.client.get("/review?page=0").status_code == 422


def test_an_uploader_cannot_open_another_keys_document_page(svc: Service) -> None:
    doc_id = done_document(svc, role="reviewer")
    sign_in(svc.client, svc.keys["uploader"])
    r = svc.client.get(f"/review/documents/{doc_id}")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_a_key_granted_a_document_by_its_bytes_sees_only_its_own_filename(svc: Service) -> None:
    data = SYNTHETIC_PDF.read_bytes()
    first = svc.upload(data, "reviewers-private-name.pdf", role="reviewer")
    assert first.status_code == 202
    again = svc.upload(data, "my-copy.pdf", role="uploader")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    sign_in(svc.client, svc.keys["uploader"])
    pages = [svc.client.get("/review").text, svc.client.get(f"/review/documents/{first.json()['id']}").text]
    for html in pages:
        assert "my-copy.pdf" in html
        assert "reviewers-private-name" not in html


def test_an_admin_manages_keys_from_a_session(svc: Service) -> None:
    sign_in(svc.client, svc.keys["admin"])
    page = svc.client.get("/review/keys")
    assert page.status_code == 200 and 'id="keys"' in page.text
    csrf = csrf_of(svc.client)
    made = svc.client.post(
        "/v1/keys", json={"role": "reviewer", "name": "new"}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status_code == 201 and made.json()["key"].startswith("gk_")
    assert made.json()["id"] in svc.client.get("/review/keys").text
    # Without the token the same request changes nothing.
    assert svc.client.post("/v1/keys", json={"role": "admin"}).status_code == 403
