"""The HTTP API over TestClient: upload → job → result, corrections, history, exports, roles, bad input."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gongkai.pipeline.result import ExtractionResult
from tests.conftest import real_document
from tests.server.api_support import Service, service, stored_objects, synthetic_pdf, temp_files


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path)


def test_born_digital_upload_job_result(svc: Service) -> None:
    pdf = synthetic_pdf()
    r = svc.upload(pdf, "sample.pdf")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["duplicate"] is False and body["status"] == "queued" and body["pages"] >= 1
    assert body["links"]["self"] == f"/v1/documents/{body['id']}"
    doc = svc.wait(body["id"])
    assert doc["status"] == "done", doc
    assert doc["job"]["progress"] == 1.0 and doc["job"]["attempts"] == 1
    assert doc["year"] == 2023 and doc["format"] == "2021" and doc["failing_checks"] == 0

    result = svc.client.get(f"/v1/documents/{body['id']}/result", headers=svc.h("uploader")).json()
    ExtractionResult.model_validate(result)  # no corrections: exactly the result contract
    assert result["cells"]["requests.new.total"]["value"] == 5
    assert result["source"]["sha256"] == body["sha256"]

    # The same bytes again: recognised by sha256, no second document.
    again = svc.upload(pdf, "renamed.pdf")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == body["id"]
    assert svc.client.get("/v1/documents", headers=svc.h("uploader")).json()["total"] == 1

    page = svc.client.get(f"/v1/documents/{body['id']}/pages/1.png", headers=svc.h("uploader"))
    assert page.status_code == 200 and page.content.startswith(b"\x89PNG")
    missing = svc.client.get(f"/v1/documents/{body['id']}/pages/99.png", headers=svc.h("uploader"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_such_page"


def test_correction_makes_failing_identity_pass(svc: Service) -> None:
    pdf = real_document("huaian-hongze-2023.pdf").read_bytes()
    doc_id = svc.upload(pdf, "洪泽区2023.pdf").json()["id"]
    doc = svc.wait(doc_id)
    assert doc["status"] == "done" and doc["failing_checks"] == 2
    before = svc.client.get(f"/v1/documents/{doc_id}/result", headers=svc.h("reviewer")).json()
    failing = {c["id"] for c in before["checks"] if c["status"] == "fail"}
    assert "appeals_total:review" in failing

    path = f"/v1/documents/{doc_id}/cells/appeals.review.total"
    denied = svc.client.patch(path, json={"value": 11}, headers=svc.h("uploader"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"

    r = svc.client.patch(
        path, json={"value": "11", "reason": "printed 0, rows sum to 11"}, headers=svc.h("reviewer")
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert {"id": "appeals_total:review", "before": "fail", "after": "pass"} in out["changed_checks"]
    assert out["failing_checks"] == 1
    cell = out["cell"]
    assert cell["value"] == 11 and cell["confidence"] == 1.0
    reviewer_id = svc.keys["reviewer"].split("_")[1]
    assert cell["corrected"]["by"] == reviewer_id and cell["corrected"]["machine_value"] == 0

    # The served result is the merge; the machine value is kept beside the correction.
    served = svc.client.get(f"/v1/documents/{doc_id}/result", headers=svc.h("uploader")).json()
    status = {c["id"]: c["status"] for c in served["checks"]}
    assert status["appeals_total:review"] == "pass" and status["appeals_total:suit_after_review"] == "fail"
    assert served["cells"]["appeals.review.total"]["corrected"]["machine_raw"] == "0"
    assert svc.client.get(f"/v1/documents/{doc_id}", headers=svc.h("uploader")).json()["failing_checks"] == 1
    listed = svc.client.get("/v1/documents?failing=true", headers=svc.h("uploader")).json()
    assert [d["id"] for d in listed["items"]] == [doc_id]

    hist = svc.client.get(f"/v1/documents/{doc_id}/history", headers=svc.h("uploader")).json()["corrections"]
    assert len(hist) == 1
    h = hist[0]
    assert h["by"] == reviewer_id and h["target_id"] == "appeals.review.total"
    assert h["old"]["value"] == 0 and h["new"]["value"] == 11 and h["reason"].startswith("printed 0")
    assert h["at"].endswith("Z")

    exp = svc.client.get(f"/v1/documents/{doc_id}/export.json", headers=svc.h("uploader"))
    assert exp.status_code == 200 and "attachment" in exp.headers["content-disposition"]
    assert json.loads(exp.content)["cells"]["appeals.review.total"]["value"] == 11
    rows = list(
        csv.DictReader(
            io.StringIO(
                svc.client.get(
                    f"/v1/documents/{doc_id}/export.csv", headers=svc.h("uploader")
                ).content.decode("utf-8-sig")
            )
        )
    )
    row = next(r for r in rows if r["cell_id"] == "appeals.review.total")
    assert row["value"] == "11" and row["corrected"] == "True" and row["machine_value"] == "0"
    assert row["table"] and row["row"]  # labels from the schema
    from openpyxl import load_workbook

    xlsx = svc.client.get(f"/v1/documents/{doc_id}/export.xlsx", headers=svc.h("uploader"))
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert set(wb.sheetnames) >= {"cells", "checks", "paragraphs", "corrections"}
    assert wb["corrections"].max_row == 2  # header + the one correction


def test_paragraph_correction_and_bad_values(svc: Service) -> None:
    doc_id = svc.upload(synthetic_pdf()).json()["id"]
    assert svc.wait(doc_id)["status"] == "done"
    base = f"/v1/documents/{doc_id}"
    r = svc.client.patch(
        f"{base}/paragraphs/1",
        json={"label": "overview", "text": "更正后的段落。", "reason": "OCR"},
        headers=svc.h("reviewer"),
    )
    assert r.status_code == 200, r.text
    para = r.json()["paragraph"]
    assert (
        para["text"] == "更正后的段落。"
        and para["label"] == "overview"
        and "machine_text" in para["corrected"]
    )
    # The document has a correction now: every further PATCH names the revision it was made against.
    assert r.headers["ETag"] == f'"{r.json()["correction"]["id"]}"'
    tag = {"If-Match": r.headers["ETag"]}
    nope = svc.client.patch(
        f"{base}/paragraphs/100000", json={"label": "problems"}, headers={**svc.h("reviewer"), **tag}
    )
    assert nope.status_code == 404
    empty = svc.client.patch(
        f"{base}/paragraphs/1", json={"reason": "nothing"}, headers={**svc.h("reviewer"), **tag}
    )
    assert empty.status_code == 422
    bad = svc.client.patch(
        f"{base}/cells/requests.new.total", json={"value": "十一"}, headers={**svc.h("reviewer"), **tag}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_value"
    neg = svc.client.patch(
        f"{base}/cells/requests.new.total", json={"value": -3}, headers={**svc.h("reviewer"), **tag}
    )
    assert neg.status_code == 422
    unknown = svc.client.patch(
        f"{base}/cells/requests.nothing.total", json={"value": 1}, headers={**svc.h("reviewer"), **tag}
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "no_such_cell"
    # A blank detail cell counts as 0 with a note, exactly as the pipeline evaluates it.
    blank = svc.client.patch(
        f"{base}/cells/requests.new.commercial", json={"value": None}, headers={**svc.h("reviewer"), **tag}
    )
    assert blank.status_code == 200
    assert blank.json()["cell"]["blank"] is True and blank.json()["failing_checks"] == 0
    hist = svc.client.get(f"{base}/history", headers=svc.h("uploader")).json()["corrections"]
    assert [h["target"] for h in hist] == ["paragraph", "cell"]


def test_roles(svc: Service) -> None:
    c = svc.client
    assert c.get("/v1/documents").status_code == 401
    assert c.get("/v1/documents", headers={"X-API-Key": "gk_000000000000_" + "0" * 48}).status_code == 401
    assert c.get("/v1/documents", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    for role in ("uploader", "reviewer", "admin"):
        assert c.get("/v1/documents", headers=svc.h(role)).status_code == 200
    # Key management is the admin's alone.
    for role in ("uploader", "reviewer"):
        r = c.post("/v1/keys", json={"role": "uploader"}, headers=svc.h(role))
        assert r.status_code == 403, role
        assert c.get("/v1/keys", headers=svc.h(role)).status_code == 403
    made = c.post("/v1/keys", json={"role": "reviewer", "name": "temp"}, headers=svc.h("admin"))
    assert made.status_code == 201
    new_key = made.json()["key"]
    listed = c.get("/v1/keys", headers=svc.h("admin")).json()
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    assert made.json()["id"] in {k["id"] for k in listed}
    assert c.get("/v1/documents", headers={"X-API-Key": new_key}).status_code == 200
    assert c.delete(f"/v1/keys/{made.json()['id']}", headers=svc.h("admin")).status_code == 200
    assert c.get("/v1/documents", headers={"X-API-Key": new_key}).status_code == 401
    # Uploaders upload; everyone attributed.
    r = svc.upload(synthetic_pdf(), role="uploader")
    assert r.status_code == 202 and r.json()["uploaded_by"] == svc.keys["uploader"].split("_")[1]


def _docx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<w:document>" + b" " * (30 * 1024 * 1024) + b"</w:document>")
    return buf.getvalue()


def _pdf_pages(n: int) -> bytes:
    from tests.pdfs import _FONT, _canvas

    buf = io.BytesIO()
    c = _canvas(buf)
    for i in range(n):
        c.setFont(_FONT, 12)
        c.drawString(72, 700, f"第{i + 1}页")
        c.showPage()
    c.save()
    return buf.getvalue()


def _bad_inputs() -> list[tuple[str, bytes, int, str]]:
    from tests.pdfs import text_pdf

    real_pdf = synthetic_pdf()
    return [
        ("empty", b"", 422, "empty"),
        ("whitespace", b"   \n", 422, "empty"),
        ("plain text", "只是一些文字".encode(), 415, "unsupported_type"),
        ("zip not docx", _zip({"a.txt": b"x"}), 415, "unsupported_type"),
        ("legacy doc", b"\xd0\xcf\x11\xe0" + b"\0" * 600, 415, "unsupported_type"),
        ("corrupt pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50, 422, "corrupt"),
        ("truncated pdf", real_pdf[: len(real_pdf) // 3], 422, "corrupt"),
        ("encrypted pdf", text_pdf(["政府信息公开工作年度报告"], encrypt="secret"), 422, "encrypted"),
        ("docx zip bomb", _docx_bomb(), 413, "too_large"),
        ("too many pages", _pdf_pages(4), 413, "too_large"),
        ("over size limit", real_pdf + b"\n%" + b"x" * 400_000, 413, "too_large"),
    ]


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in parts.items():
            zf.writestr(k, v)
    return buf.getvalue()


def test_bad_inputs_rejected_with_clear_errors(tmp_path: Path) -> None:
    cases = _bad_inputs()
    limit = len(synthetic_pdf()) + 100_000
    for svc in service(
        tmp_path, max_upload_bytes=limit, max_pages=3, max_uncompressed_bytes=10 * 1024 * 1024
    ):
        for name, data, status, code in cases:
            r = svc.upload(data, "../../../etc/" + name.replace(" ", "_") + ".pdf")
            assert r.status_code == status, (name, r.status_code, r.text)
            err = r.json()["error"]
            assert err["code"] == code, (name, err)
            assert err["message"] and "\n" not in err["message"], name
        # Nothing half-written: no rows, no stored files, no temp files.
        assert svc.client.get("/v1/documents", headers=svc.h("admin")).json()["total"] == 0
        assert stored_objects(svc.settings) == [] and temp_files(svc.settings) == []
        # Missing file field, wrong content type.
        r = svc.client.post(
            "/v1/documents", data={"x": "1"}, files={"other": ("a", b"b")}, headers=svc.h("uploader")
        )
        assert r.status_code == 422
        r = svc.client.post(
            "/v1/documents",
            content=b"%PDF-1.7",
            headers={**svc.h("uploader"), "content-type": "application/pdf"},
        )
        assert r.status_code == 415


def test_streamed_body_over_the_limit_is_cut_off(tmp_path: Path) -> None:
    for svc in service(tmp_path, max_upload_bytes=100_000):

        def body() -> Iterator[bytes]:  # chunked: no Content-Length to refuse up front
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n%PDF-1.7\n'
            for _ in range(40):
                yield b"0" * 10_000
            yield b"\r\n--b--\r\n"

        headers = {**svc.h("uploader"), "content-type": "multipart/form-data; boundary=b"}
        r = svc.client.post("/v1/documents", content=body(), headers=headers)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        assert stored_objects(svc.settings) == [] and temp_files(svc.settings) == []


def test_huge_image_dimensions_refused() -> None:
    import struct
    import zlib

    from gongkai.errors import InputError
    from gongkai.server.api.limits import check_upload
    from gongkai.settings import Settings

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # A valid PNG header claiming 100 000 x 100 000 pixels in a few dozen bytes.
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    with pytest.raises(InputError) as err:
        check_upload(png, Settings())
    # Until OCR accepts images the sniffer refuses them; once it does, the pixel limit does.
    assert err.value.code in ("unsupported_type", "too_large")
    from gongkai.server.api import limits

    with pytest.raises(InputError, match="pixels"):
        limits._image_frames(png, Settings())


def test_failed_document_records_reason_and_retries(svc: Service) -> None:
    from tests.pdfs import text_pdf

    not_report = text_pdf(["会议通知", "请各单位按时参加。"])
    r = svc.upload(not_report, "notice.pdf")
    assert r.status_code == 202
    doc = svc.wait(r.json()["id"])
    assert doc["status"] == "failed"
    assert doc["error"]["code"] == "not_a_report" and doc["error"]["retryable"] is True
    assert doc["job"]["error"]["message"] == doc["error"]["message"]
    res = svc.client.get(f"/v1/documents/{doc['id']}/result", headers=svc.h("uploader"))
    assert res.status_code == 409 and res.json()["error"]["reason"]["code"] == "not_a_report"
    again = svc.client.post(f"/v1/documents/{doc['id']}/retry", headers=svc.h("uploader"))
    assert again.status_code == 202 and again.json()["job"]["id"] != doc["job"]["id"]
    assert svc.wait(doc["id"])["status"] == "failed"
    done_id = svc.upload(synthetic_pdf()).json()["id"]
    svc.wait(done_id)
    assert svc.client.post(f"/v1/documents/{done_id}/retry", headers=svc.h("uploader")).status_code == 409


def test_scanned_upload(tmp_path: Path) -> None:
    """A scan: extracted by OCR when it is installed, otherwise failed with needs_ocr (retryable).

    The worker is a process, as in production: OCR forks its own pool, which must not happen
    from a thread of this (multi-threaded) test process."""
    for svc in service(tmp_path, pool="process"):
        _scanned_upload(svc)


def _scanned_upload(svc: Service) -> None:
    try:
        from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, scan_pdf

        scanned = scan_pdf(synthetic_pdf(), ScanOptions(dpi=150), seed=1)
    except ImportError:
        from tests.pdfs import image_only_pdf

        scanned = image_only_pdf()
    r = svc.upload(scanned, "scan.pdf")
    assert r.status_code == 202, r.text
    doc = svc.wait(r.json()["id"], timeout=300)
    if doc["status"] == "failed":
        assert doc["error"]["code"] == "needs_ocr" and doc["error"]["retryable"]
    else:
        assert doc["status"] == "done"
        result = svc.client.get(f"/v1/documents/{doc['id']}/result", headers=svc.h("uploader")).json()
        assert {p["text_source"] for p in result["pages"]} == {"ocr"}


def test_listing_filters_and_paging(svc: Service) -> None:
    ids = {}
    # Real divisions: an agency read from the text is kept only when its region is in the table.
    for agency, year in (("洛阳市老城区人民政府", 2022), ("新安县人民政府", 2023), ("孟津区人民政府", 2023)):
        ids[agency] = svc.upload(synthetic_pdf(agency, year)).json()["id"]
    for i in ids.values():
        assert svc.wait(i)["status"] == "done"
    h = svc.h("uploader")
    get = lambda q: svc.client.get(f"/v1/documents?{q}", headers=h).json()  # noqa: E731
    assert get("year=2023")["total"] == 2
    assert [d["id"] for d in get("agency=老城区")["items"]] == [ids["洛阳市老城区人民政府"]]
    assert get("status=done&format=2021&failing=false")["total"] == 3
    assert get("status=failed")["total"] == 0
    page = get("limit=2")
    assert len(page["items"]) == 2 and page["next"] and "offset=2" in page["next"]
    rest = svc.client.get(page["next"], headers=h).json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert svc.client.get("/v1/documents?status=bogus", headers=h).status_code == 422
    assert svc.client.get("/v1/documents/" + "f" * 32, headers=h).status_code == 404


def test_html_has_no_page_images_and_ops_endpoints(svc: Service) -> None:
    from gongkai.devtools.corpora.synthetic.render_html import render_html
    from gongkai.devtools.corpora.synthetic.spec import blank_spec

    html = render_html(blank_spec("2021", 2023, "某某县人民政府", value="0"))
    doc_id = svc.upload(html, "report.html").json()["id"]
    assert svc.wait(doc_id)["status"] == "done"
    r = svc.client.get(f"/v1/documents/{doc_id}/pages/1.png", headers=svc.h("uploader"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_page_images"
    health = svc.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    metrics = svc.client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'gongkai_jobs{status="done"} 1.0' in metrics.text
    assert 'gongkai_uploads_total{outcome="accepted"}' in metrics.text
    assert svc.client.get("/docs").status_code == 200
    assert "/v1/documents/{document_id}/cells/{cell_id}" in svc.client.get("/openapi.json").json()["paths"]


def test_corrected_values_are_stored_exactly_or_refused(svc: Service) -> None:
    doc_id = svc.upload(synthetic_pdf()).json()["id"]
    assert svc.wait(doc_id)["status"] == "done"
    base = f"/v1/documents/{doc_id}"
    fees, count = f"{base}/cells/active.fees.amount", f"{base}/cells/requests.new.total"

    etag: dict[str, str] = {}  # the revision each PATCH is made against, as a reviewer's client keeps it

    def patch(path: str, body: str) -> Any:
        headers = {**svc.h("reviewer"), "Content-Type": "application/json", **etag}
        r = svc.client.patch(path, content=body, headers=headers)
        if "ETag" in r.headers:
            etag["If-Match"] = r.headers["ETag"]
        return r

    # A float's repr (5e-05) was read as 5 with the note "e-05"; JSON numbers are numbers.
    for path, body in [
        (fees, '{"value": 0.00005}'),
        (count, '{"value": 0.00001}'),
        (count, '{"value": 2e-7}'),
        (count, '{"value": Infinity}'),
        (count, '{"value": NaN}'),
        (count, '{"value": 1e400}'),
        (count, '{"value": 1' + "0" * 400 + "}"),
        (fees, '{"value": 1e30}'),
        (count, '{"value": true}'),
        (fees, '{"value": false}'),
    ]:
        r = patch(path, body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] in ("bad_value", "invalid_request")
    ok = patch(fees, '{"value": 0.0005}')
    assert ok.status_code == 200, ok.text
    assert ok.json()["cell"]["value"] == 0.0005 and ok.json()["cell"]["raw"] == "0.0005"
    exp = patch(count, '{"value": "1e5"}')
    assert exp.status_code == 200 and exp.json()["cell"]["value"] == 100000
    served = svc.client.get(f"{base}/result", headers=svc.h("uploader")).json()["cells"]
    assert served["active.fees.amount"]["value"] == 0.0005 and served["requests.new.total"]["value"] == 100000

    flag = svc.client.patch(f"{base}/paragraphs/1", json={"clear_label": "yes"}, headers=svc.h("reviewer"))
    assert flag.status_code == 422

    # The same value again changes nothing: 200 with the correction in effect, no new history row.
    again = patch(count, '{"value": 100000, "reason": "again"}')
    assert again.status_code == 200, again.text
    assert again.json()["correction"]["id"] == exp.json()["correction"]["id"]
    assert again.json()["changed_checks"] == []
    hist = svc.client.get(f"{base}/history", headers=svc.h("uploader")).json()["corrections"]
    assert len(hist) == 2
