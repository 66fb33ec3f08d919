"""Concurrent corrections (issue 11): If-Match against the document's ETag, and the failing count kept
right, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from gongkai.server.storage import repository as repo
from tests.server.api_support import Service, service, synthetic_pdf
from tests.server.postgres import fresh_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    if request.param == "sqlite":
        yield from service(tmp_path)
        return
    with fresh_database_url("gongkai_conc") as url:
        yield from service(tmp_path, database_url=url)


def _done_document(svc: Service) -> str:
    doc_id: str = svc.upload(synthetic_pdf()).json()["id"]
    assert svc.wait(doc_id)["status"] == "done"
    return doc_id


def _all_at_once(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Every PATCH reaches the document's lock together: the race, made as tight as it can be."""
    barrier = threading.Barrier(n)
    original = repo.lock_document

    def wait_then_lock(s: Any, document_id: str) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return original(s, document_id)

    monkeypatch.setattr(repo, "lock_document", wait_then_lock)


def test_etag_and_preconditions(svc: Service) -> None:
    doc_id = _done_document(svc)
    base = f"/v1/documents/{doc_id}"
    cell = f"{base}/cells/requests.new.total"
    got = svc.client.get(f"{base}/result", headers=svc.h("uploader"))
    assert got.headers["ETag"] == '"0"'

    # No corrections yet: a PATCH without If-Match is allowed, and says the new revision.
    first = svc.client.patch(cell, json={"value": 6, "reason": "a"}, headers=svc.h("reviewer"))
    assert first.status_code == 200, first.text
    tag = first.headers["ETag"]
    assert tag == f'"{first.json()["correction"]["id"]}"' and tag != '"0"'
    assert svc.client.get(f"{base}/result", headers=svc.h("uploader")).headers["ETag"] == tag

    # Corrected since it was processed: If-Match is now required …
    missing = svc.client.patch(cell, json={"value": 7}, headers=svc.h("reviewer"))
    assert missing.status_code == 428, missing.text
    err = missing.json()["error"]
    assert err["code"] == "precondition_required" and err["etag"] == tag
    # … and a stale one is refused with what is there now.
    stale = svc.client.patch(cell, json={"value": 7}, headers={**svc.h("reviewer"), "If-Match": '"0"'})
    assert stale.status_code == 412, stale.text
    err = stale.json()["error"]
    assert err["code"] == "precondition_failed" and err["etag"] == tag and err["cell"]["value"] == 6
    para = svc.client.patch(
        f"{base}/paragraphs/1", json={"label": "overview"}, headers={**svc.h("reviewer"), "If-Match": '"0"'}
    )
    assert para.status_code == 412 and "paragraph" in para.json()["error"]

    ok = svc.client.patch(cell, json={"value": 7}, headers={**svc.h("reviewer"), "If-Match": tag})
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] != tag and ok.json()["cell"]["value"] == 7
    p = svc.client.patch(
        f"{base}/paragraphs/1", json={"label": "overview"}, headers={**svc.h("reviewer"), "If-Match": "*"}
    )
    assert p.status_code == 200 and p.headers["ETag"] == f'"{p.json()["correction"]["id"]}"'
    hist = svc.client.get(f"{base}/history", headers=svc.h("uploader")).json()["corrections"]
    assert [h["new"].get("value") for h in hist if h["target"] == "cell"] == [6, 7]


def test_concurrent_patches_of_one_cell(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    doc_id = _done_document(svc)
    base = f"/v1/documents/{doc_id}"
    first = svc.client.patch(f"{base}/cells/requests.new.total", json={"value": 6}, headers=svc.h("reviewer"))
    tag = first.headers["ETag"]
    _all_at_once(monkeypatch, 2)

    def patch(value: int) -> Any:
        headers = {**svc.h("reviewer"), "If-Match": tag}
        return svc.client.patch(f"{base}/cells/requests.new.total", json={"value": value}, headers=headers)

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(patch, [8, 9]))
    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    won = next(r for r in responses if r.status_code == 200)
    lost = next(r for r in responses if r.status_code == 412)
    # The loser is told what the winner wrote, and the revision to send if it still wants its value.
    assert lost.json()["error"]["cell"]["value"] == won.json()["cell"]["value"]
    assert lost.json()["error"]["etag"] == won.headers["ETag"]
    hist = svc.client.get(f"{base}/history", headers=svc.h("uploader")).json()["corrections"]
    assert len(hist) == 2


def test_concurrent_patches_of_different_cells_keep_failing_count(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = _done_document(svc)
    base = f"/v1/documents/{doc_id}"
    cells = [
        "requests.new.natural_person",
        "requests.granted.natural_person",
        "requests.partial.natural_person",
        "requests.results_total.natural_person",
    ]
    _all_at_once(monkeypatch, len(cells))

    def patch(cell: str) -> int:
        # If-Match: * — "whatever the revision": each changes its own cell, so none needs to see the others.
        headers = {**svc.h("reviewer"), "If-Match": "*"}
        r = svc.client.patch(f"{base}/cells/{cell}", json={"value": 99, "reason": "race"}, headers=headers)
        return r.status_code

    with ThreadPoolExecutor(len(cells)) as pool:
        assert list(pool.map(patch, cells)) == [200] * len(cells)
    served = svc.client.get(f"{base}/result", headers=svc.h("uploader")).json()
    failing = sum(1 for c in served["checks"] if c["status"] == "fail")
    assert failing > 0 and all(served["cells"][c]["value"] == 99 for c in cells)
    doc = svc.client.get(base, headers=svc.h("uploader")).json()
    assert doc["failing_checks"] == failing
