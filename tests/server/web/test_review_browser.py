"""The review workspace in a real Chromium: the reviewer's main scenario on a real report, a stale
edit from a second reviewer, an uploader who cannot edit, keyboard editing, and accessibility."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from gongkai.devtools.browser import LiveServer, sign_in, wait_until_done
from tests.conftest import REPO, real_document

pytestmark = pytest.mark.slow
SYNTHETIC_PDF = REPO / "tests" / "fixtures" / "synthetic" / "s2025-0000-2021-pdf.pdf"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _upload(page: Any, path: Any) -> str:
    """Upload through the queue's file input; the new row's document id."""
    before = set(
        page.eval_on_selector_all(
            "#queue tr[data-document-id]", "rows => rows.map(r => r.dataset.documentId)"
        )
    )
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector("#uploads li a")  # the upload answered 202/200 and linked its document
    ids = page.eval_on_selector_all(
        "#queue tr[data-document-id]", "rows => rows.map(r => r.dataset.documentId)"
    )
    new = [i for i in ids if i not in before]
    return new[0] if new else ids[0]


@pytest.fixture(scope="module")
def reviewed_doc(live: LiveServer, browser: Any) -> dict[str, Any]:
    """The main scenario, step by step, on the real 洪泽区 2023 report; later tests reuse its document."""
    pdf = real_document("huaian-hongze-2023.pdf")
    expect = _expect()
    ctx = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = ctx.new_page()
    sign_in(page, live.url, live.keys["reviewer"])
    doc_id = _upload(page, pdf)
    wait_until_done(page, doc_id)

    # Open it from the queue (failing documents come first).
    page.goto(f"{live.url}/review")
    page.click(f'#queue tr[data-document-id="{doc_id}"] a')
    page.wait_for_url(f"{live.url}/review/documents/{doc_id}")
    expect(page.locator("#failing-count")).to_have_text("2")
    failing = page.locator('#checks li[data-status="fail"]')
    expect(failing).to_have_count(2)
    assert sorted(failing.evaluate_all("els => els.map(e => e.dataset.checkId)")) == [
        "appeals_total:review",
        "appeals_total:suit_after_review",
    ]
    # Failing checks are listed first.
    first = page.locator("#checks li").first
    assert first.get_attribute("data-status") == "fail"

    # Clicking a check highlights its cells and says expected vs actual.
    page.click('li[data-check-id="appeals_total:review"] button')
    total = page.locator('td[data-cell-id="appeals.review.total"]')
    expect(total).to_have_class(re.compile(r"\bhighlight\b"))
    expect(page.locator("#check-detail")).to_contain_text("expected 11, actual 0")
    expect(page.locator("#page-box")).to_be_visible()  # the cell's box drawn on the page image

    # Correct the total in place: Enter opens the editor, Enter saves.
    page.fill("#reason", "总计为四项之和 (the printed total is wrong)")
    total.focus()
    page.keyboard.press("Enter")
    editor = total.locator("input")
    expect(editor).to_be_focused()
    editor.fill("11")
    page.keyboard.press("Enter")
    expect(page.locator('li[data-check-id="appeals_total:review"]')).to_have_attribute("data-status", "pass")
    expect(page.locator("#failing-count")).to_have_text("1")
    expect(total.locator(".value")).to_have_text("11")
    expect(total).to_have_attribute("data-flags", re.compile("corrected"))

    # Kept: a reload shows the same.
    page.reload()
    expect(page.locator('td[data-cell-id="appeals.review.total"] .value')).to_have_text("11")
    expect(page.locator("#failing-count")).to_have_text("1")
    expect(page.locator('li[data-check-id="appeals_total:review"]')).to_have_attribute("data-status", "pass")

    # In the history, and in the XLSX export.
    page.click("text=History")
    row = page.locator('#history tr[data-target-id="appeals.review.total"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("总计为四项之和")
    page.go_back()
    with page.expect_download() as info:
        page.click('[data-testid="export-xlsx"]')
    data = info.value.path().read_bytes()
    ctx.close()
    return {"id": doc_id, "xlsx": data}


def test_main_scenario_correction_reaches_the_xlsx_export(reviewed_doc: dict[str, Any]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(io.BytesIO(reviewed_doc["xlsx"]), read_only=True)
    text = {
        name: [[str(v) for v in row if v is not None] for row in book[name].iter_rows(values_only=True)]
        for name in book.sheetnames
    }
    cell_rows = [r for rows in text.values() for r in rows if "appeals.review.total" in r]
    assert any("11" in r for r in cell_rows), cell_rows  # the served value
    assert any(any("总计为四项之和" in v for v in r) for r in cell_rows), "the history row with its reason"


def test_stale_edit_from_a_second_reviewer_asks_and_never_overwrites(
    live: LiveServer, browser: Any, reviewed_doc: dict[str, Any]
) -> None:
    expect = _expect()
    doc_id = reviewed_doc["id"]
    url = f"{live.url}/review/documents/{doc_id}"
    second = browser.new_context(viewport=DESKTOP)
    page2 = second.new_page()
    sign_in(page2, live.url, live.keys["reviewer2"])
    page2.goto(url)  # loaded at the current revision
    first = browser.new_context(viewport=DESKTOP)
    page1 = first.new_page()
    sign_in(page1, live.url, live.keys["reviewer"])
    page1.goto(url)
    cell1 = page1.locator('td[data-cell-id="appeals.review.total"]')
    cell1.dblclick()
    cell1.locator("input").fill("12")
    page1.keyboard.press("Enter")
    expect(cell1.locator(".value")).to_have_text("12")

    # The second reviewer, on the old revision, edits the same cell: the dialog shows the other value.
    cell2 = page2.locator('td[data-cell-id="appeals.review.total"]')
    cell2.dblclick()
    cell2.locator("input").fill("13")
    page2.keyboard.press("Enter")
    dialog = page2.locator("#conflict")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("“12”")
    page2.click("#conflict-theirs")
    expect(cell2.locator(".value")).to_have_text("12")
    served = page2.request.get(f"{live.url}/v1/documents/{doc_id}/result").json()
    assert served["cells"]["appeals.review.total"]["value"] == 12  # nothing overwritten silently

    # Choosing "save mine" after seeing it does save, against the new revision.
    cell2.dblclick()
    cell2.locator("input").fill("11")
    page2.keyboard.press("Enter")
    expect(cell2.locator(".value")).to_have_text("11")
    served = page2.request.get(f"{live.url}/v1/documents/{doc_id}/result").json()
    assert served["cells"]["appeals.review.total"]["value"] == 11
    first.close()
    second.close()


def test_keyboard_escape_cancels_tab_moves_on_and_undo_restores(
    live: LiveServer, browser: Any, reviewed_doc: dict[str, Any]
) -> None:
    expect = _expect()
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    sign_in(page, live.url, live.keys["reviewer"])
    page.goto(f"{live.url}/review/documents/{reviewed_doc['id']}")
    upheld = page.locator('td[data-cell-id="appeals.suit_after_review.upheld"]')
    before = upheld.locator(".value").inner_text()
    upheld.focus()
    page.keyboard.press("Enter")
    upheld.locator("input").fill("999")
    page.keyboard.press("Escape")
    expect(upheld.locator("input")).to_have_count(0)
    expect(upheld.locator(".value")).to_have_text(before)  # nothing saved

    # Tab saves and opens the next cell's editor.
    upheld.focus()
    page.keyboard.press("Enter")
    upheld.locator("input").fill(str(int(before or 0) + 1))
    page.keyboard.press("Tab")
    expect(page.locator('td[data-cell-id="appeals.suit_after_review.corrected"] input')).to_be_focused()
    page.keyboard.press("Escape")
    expect(upheld.locator(".value")).to_have_text(str(int(before or 0) + 1))

    # Undo puts the old value back (as a new, recorded correction).
    page.click("#undo")
    expect(upheld.locator(".value")).to_have_text(before)
    served = page.request.get(f"{live.url}/v1/documents/{reviewed_doc['id']}/result").json()
    assert str(served["cells"]["appeals.suit_after_review.upheld"]["value"]) == before

    # A paragraph's label, changed in place, is kept.
    first_para = page.locator("li[data-paragraph]").first
    n = first_para.get_attribute("data-paragraph")
    first_para.locator("select.para-label").select_option("other_matters")
    expect(first_para).to_have_attribute("data-label", "other_matters")
    page.reload()
    expect(page.locator(f'li[data-paragraph="{n}"] select.para-label')).to_have_value("other_matters")

    # j moves to a flagged cell.
    page.locator("h1").click()
    page.keyboard.press("j")
    focused = page.evaluate("document.activeElement.dataset.cellId")
    flagged = page.evaluate("JSON.parse(document.getElementById('doc-data').textContent).flagged")
    assert focused == flagged[0]
    ctx.close()


def test_uploader_sees_no_edit_controls_and_a_forged_write_is_refused(live: LiveServer, browser: Any) -> None:
    expect = _expect()
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    sign_in(page, live.url, live.keys["uploader"])
    doc_id = _upload(page, SYNTHETIC_PDF)
    wait_until_done(page, doc_id)
    page.goto(f"{live.url}/review/documents/{doc_id}")
    expect(page.locator("td[data-cell-id]").first).to_be_visible()
    expect(page.locator("td[data-editable]")).to_have_count(0)
    expect(page.locator("#reason")).to_have_count(0)
    expect(page.locator("text=Mark reviewed")).to_have_count(0)
    page.locator("td[data-cell-id]").first.dblclick()
    expect(page.locator("td[data-cell-id] input")).to_have_count(0)
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    # A forged PATCH with a valid CSRF token is still refused: the role does not allow it.
    forged = page.request.patch(
        f"{live.url}/v1/documents/{doc_id}/cells/requests.new.total",
        data={"value": 1},
        headers={"X-CSRF-Token": csrf},
    )
    assert forged.status == 403
    form = page.request.post(
        f"{live.url}/review/documents/{doc_id}/reviewed", form={"csrf_token": csrf, "reviewed": "yes"}
    )
    assert form.status == 403
    ctx.close()


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["1280x800", "tablet"])
def test_pages_have_no_serious_accessibility_violations(
    live: LiveServer, browser: Any, reviewed_doc: dict[str, Any], viewport: dict[str, int]
) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    # axe-core is injected by the test; the pages' own CSP would refuse it otherwise.
    ctx = browser.new_context(viewport=viewport, bypass_csp=True)
    page = ctx.new_page()
    page.goto(f"{live.url}/review/sign-in")
    pages = {"sign-in": page.url}
    sign_in(page, live.url, live.keys["reviewer"])
    pages["queue"] = f"{live.url}/review"
    pages["document"] = f"{live.url}/review/documents/{reviewed_doc['id']}"
    pages["history"] = f"{live.url}/review/documents/{reviewed_doc['id']}/history"
    problems = {}
    for name, url in pages.items():
        if name == "sign-in":
            continue  # checked signed out below
        page.goto(url)
        results = axe_module.Axe().run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if serious:
            problems[name] = [(v["id"], v["help"], len(v["nodes"])) for v in serious]
        # Usable at this width: nothing but the wide tables scrolls sideways.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {viewport}"
    anon = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
    anon.goto(f"{live.url}/review/sign-in")
    results = axe_module.Axe().run(anon)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    if serious:
        problems["sign-in"] = [(v["id"], v["help"], len(v["nodes"])) for v in serious]
    assert not problems, problems
    ctx.close()


def test_admin_creates_and_revokes_a_key_in_the_keys_page(live: LiveServer, browser: Any) -> None:
    expect = _expect()
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    sign_in(page, live.url, live.keys["admin"])
    page.click("text=Keys")
    page.wait_for_url(f"{live.url}/review/keys")
    page.fill("#new-key input[name=name]", "made in the browser")
    page.select_option("#new-key select[name=role]", "reviewer")
    page.click("#new-key button[type=submit]")
    secret = page.locator("#new-key-secret")
    expect(secret).to_be_visible()
    expect(secret).to_contain_text("gk_")
    key_id = secret.inner_text().split("gk_", 1)[1].split("_", 1)[0]
    page.reload()
    row = page.locator(f'#keys tr[data-key-id="{key_id}"]')
    expect(row).to_contain_text("made in the browser")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.revoke").click()
    expect(row).to_contain_text("revoked")
    keys = page.request.get(f"{live.url}/v1/keys").json()
    assert next(k for k in keys if k["id"] == key_id)["revoked_at"]
    ctx.close()


def test_a_document_still_queued_shows_its_status_and_an_unknown_one_an_error_page(
    browser: Any, tmp_path: Any
) -> None:
    from gongkai.devtools.browser import live_server

    expect = _expect()
    # No workers: the upload stays queued, so the page it opens is the waiting page, every time.
    with live_server(tmp_path, workers=0) as idle:
        ctx = browser.new_context(viewport=DESKTOP)
        page = ctx.new_page()
        sign_in(page, idle.url, idle.keys["reviewer"])
        doc_id = _upload(page, SYNTHETIC_PDF)
        page.goto(f"{idle.url}/review/documents/{doc_id}")
        expect(page.locator('[data-testid="doc-status"]')).to_have_text("queued")
        expect(page.locator("#pending")).to_contain_text("this page opens the result when it is ready")
        missing = page.goto(f"{idle.url}/review/documents/{'0' * 32}")
        assert missing is not None and missing.status == 404
        expect(page.locator("h1")).to_contain_text("404")
        ctx.close()
