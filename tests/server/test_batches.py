"""POST /v1/batches, GET /v1/batches/{id} and GET /v1/agencies/{name}/years, with per-key visibility."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gongkai.server.storage.db import Database
from gongkai.server.storage.models import JobRow
from tests.batch.helpers import consistent_spec, html_bytes, zip_bytes
from tests.pdfs import text_pdf
from tests.server.api_support import Service, service

AGENCY = "某某市某某区人民政府"
NOTICE_HTML = (
    "<html><head><meta charset='utf-8'><title>关于召开全区安全生产工作会议的通知</title></head><body>"
    "<h1>关于召开全区安全生产工作会议的通知</h1><p>定于下周一上午九时在区政府三楼会议室召开会议，请准时参加。</p>"
    "</body></html>"
).encode()


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path)


def _key(svc: Service, role: str, scope: str | None = None) -> dict[str, str]:
    body = {"role": role, "name": f"{role} {scope}"}
    if scope:
        body["scope"] = scope
    r = svc.client.post("/v1/keys", json=body, headers=svc.h("admin"))
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["key"]}


def _post(svc: Service, data: bytes, headers: dict[str, str], name: str = "reports.zip") -> Any:
    return svc.client.post("/v1/batches", files={"file": (name, data, "application/zip")}, headers=headers)


def _wait_batch(
    svc: Service, batch_id: str, headers: dict[str, str], timeout: float = 120.0
) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = svc.client.get(f"/v1/batches/{batch_id}", headers=headers).json()
        if body["status"] == "done" or time.monotonic() > end:
            return body
        time.sleep(0.1)


def _report(year: int, new: int, carried_in: int = 1, carried_out: int = 2, agency: str = AGENCY) -> bytes:
    return html_bytes(consistent_spec(agency, year, new=new, carried_in=carried_in, carried_out=carried_out))


def test_an_archive_becomes_documents_duplicates_are_linked_and_bad_members_listed(svc: Service) -> None:
    existing = svc.upload(_report(2020, new=4, carried_out=1), name="2020.html").json()
    svc.wait(existing["id"])
    r2021, r2022 = _report(2021, new=5, carried_in=1), _report(2022, new=6, carried_in=2)
    archive = zip_bytes(
        {
            "2021/report.html": r2021,
            "2022/report.html": r2022,
            "copies/2021-again.html": r2021,  # the same bytes as an earlier member
            "old/2020.html": _report(2020, new=4, carried_out=1),  # bytes the service already holds
            "broken/truncated.pdf": text_pdf(["政府信息公开工作年度报告"])[:300],
            "misc/notice.html": NOTICE_HTML,  # a page, but not a disclosure report
            "misc/notes.txt": "会议纪要，无统计表。".encode("gbk"),
            "nested.zip": b"PK\x03\x04 not really a zip",
        }
    )
    r = _post(svc, archive, svc.h("uploader"))
    assert r.status_code == 202, r.text
    body = r.json()
    items = {i["path"]: i for i in body["items"]}
    assert items["2021/report.html"]["outcome"] == "new"
    assert items["2022/report.html"]["outcome"] == "new"
    dup = items["copies/2021-again.html"]
    assert (
        dup["outcome"] == "duplicate" and dup["document"]["id"] == items["2021/report.html"]["document"]["id"]
    )
    old = items["old/2020.html"]
    assert old["outcome"] == "existing" and old["document"]["id"] == existing["id"]
    assert items["broken/truncated.pdf"]["outcome"] == "rejected"
    assert items["broken/truncated.pdf"]["error"]["code"] == "corrupt"
    assert items["misc/notes.txt"]["outcome"] == "rejected"
    assert items["misc/notes.txt"]["error"]["code"] == "unsupported_type"
    assert items["nested.zip"]["error"]["code"] == "corrupt"
    assert body["progress"]["members"] == 8 and body["progress"]["documents"] == 4
    assert body["progress"]["rejected"] == 3 and body["progress"]["duplicates"] == 2

    done = _wait_batch(svc, body["id"], svc.h("uploader"))
    assert done["status"] == "done" and done["progress"]["fraction"] == 1.0, done["progress"]
    final = {i["path"]: i for i in done["items"]}
    assert final["2021/report.html"]["document"]["status"] == "done"
    assert final["2022/report.html"]["document"]["year"] == 2022
    notice = final["misc/notice.html"]["document"]
    assert notice["status"] == "failed" and notice["error"]["code"] == "not_a_report"
    assert done["progress"]["done"] == 3 and done["progress"]["failed"] == 1
    # Normal documents of the service: listed with the others (and so in the review queue)...
    listed = svc.client.get("/v1/documents?limit=50", headers=svc.h("uploader")).json()
    assert {d["id"] for d in listed["items"]} >= {i["document"]["id"] for i in done["items"] if i["document"]}
    # ...and the document that existed was linked, not run again: still its one job.
    db = Database(svc.settings.database_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).where(JobRow.document_id == existing["id"])) == 1
    db.dispose()


def test_a_batch_and_its_agency_are_404_to_another_uploader_with_scope_own(svc: Service) -> None:
    body = _post(svc, zip_bytes({"a.html": _report(2021, new=3)}), svc.h("uploader")).json()
    _wait_batch(svc, body["id"], svc.h("uploader"))
    other, all_scope = _key(svc, "uploader", "own"), _key(svc, "uploader", "all")
    r = svc.client.get(f"/v1/batches/{body['id']}", headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert svc.client.get(f"/v1/agencies/{AGENCY}/years", headers=other).status_code == 404
    for headers in (svc.h("reviewer"), all_scope):
        assert svc.client.get(f"/v1/batches/{body['id']}", headers=headers).status_code == 200
        assert svc.client.get(f"/v1/agencies/{AGENCY}/years", headers=headers).status_code == 200
    # The other key sends the same archive: its members are linked (granted), not run again, and
    # it sees its own batch.
    again = _post(svc, zip_bytes({"a.html": _report(2021, new=3)}), other).json()
    assert [i["outcome"] for i in again["items"]] == ["existing"]
    doc_id = again["items"][0]["document"]["id"]
    assert svc.client.get(f"/v1/documents/{doc_id}", headers=other).status_code == 200
    assert svc.client.get(f"/v1/batches/{again['id']}", headers=svc.h("uploader")).status_code == 404


def test_the_agency_view_counts_one_document_a_year_and_checks_carried_requests(svc: Service) -> None:
    archive = zip_bytes(
        {
            "2021.html": _report(2021, new=5, carried_in=1, carried_out=2),
            "2022.html": _report(2022, new=6, carried_in=2, carried_out=3),  # carried in = 2021's out
            "2022-reissue.html": _report(2022, new=7, carried_in=2, carried_out=3),
            "2023.html": _report(2023, new=4, carried_in=9, carried_out=1),  # 2022 carried out 3, not 9
            "other.html": _report(2022, new=3, agency="另一县人民政府"),
        }
    )
    body = _post(svc, archive, svc.h("uploader")).json()
    assert _wait_batch(svc, body["id"], svc.h("uploader"))["progress"]["done"] == 5
    # Another spelling of the same government: the normalised name of gongkai.batch.agencies.
    r = svc.client.get("/v1/agencies/某某市某某区政府/years", headers=svc.h("uploader"))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["agency_key"] == "某某市某某区" and view["names"] == [AGENCY]
    years = {y["year"]: y for y in view["years"]}
    assert sorted(years) == [2021, 2022, 2023]
    assert years[2021]["cross_year"] == {"previous_year": None, "status": None, "checks": []}
    y2022 = years[2022]
    assert len(y2022["documents"]) == 2 and sum(d["counted"] for d in y2022["documents"]) == 1
    assert y2022["counted"] in {d["id"] for d in y2022["documents"]} and y2022["counted_reason"]
    assert y2022["carried_in"]["total"] == 2.0 and y2022["carried_out"]["total"] == 3.0
    assert y2022["cross_year"]["previous_year"] == 2021 and y2022["cross_year"]["status"] == "pass"
    y2023 = years[2023]
    assert y2023["cross_year"]["status"] == "warn"
    warned = {c["id"] for c in y2023["cross_year"]["checks"] if c["status"] == "warn"}
    assert "cross_year:carried:total" in warned
    assert svc.client.get("/v1/agencies/无此机关/years", headers=svc.h("uploader")).status_code == 404


def test_what_is_not_an_archive_or_too_large_is_refused(tmp_path: Path) -> None:
    for svc in service(tmp_path, max_upload_bytes=4096):
        r = _post(svc, b"%PDF-1.4 not an archive", svc.h("uploader"), name="x.zip")
        assert r.status_code == 415 and r.json()["error"]["code"] == "not_an_archive"
        import os

        r = _post(svc, zip_bytes({"big.bin": os.urandom(8192)}), svc.h("uploader"))
        assert r.status_code == 413
        # A bomb: 1 MiB of zeros in a zip well under the limit; the member is listed, never inflated.
        r = _post(svc, zip_bytes({"bomb/report.pdf": bytes(1024 * 1024)}), svc.h("uploader"))
        assert r.status_code == 202, r.text
        (item,) = r.json()["items"]
        assert item["outcome"] == "rejected" and item["error"]["code"] == "too_large"
        assert r.json()["status"] == "done" and r.json()["progress"]["documents"] == 0
        assert _post(svc, zip_bytes({"a.html": b"x"}), {"X-API-Key": "gk_nope"}).status_code == 401
