"""The review module on typed results: corrections merged over a machine result, identities re-checked,
check changes and the failing count; the same through the workflow on a SQLite session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the service extra is not installed")

from gongkai.pipeline.result import (
    CellOut,
    CheckOut,
    ExtractionResult,
    MetadataOut,
    PageOut,
    ParagraphOut,
    SectionOut,
    SourceOut,
)
from gongkai.pipeline.schema import load_format
from gongkai.server import review
from gongkai.server.review import (
    BadCorrection,
    CellChange,
    Correction,
    ParagraphChange,
    check_changes,
    merge,
    parse_cell_value,
    recheck,
)
from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.models import ResultRow, utcnow

T0 = datetime(2024, 5, 1, 8, 0, 0)
FEES = "active.fees.amount"  # the 2021 format's one decimal cell
SOFT = CheckOut(id="section_order", kind="soft", status="warn", message="sections out of order")


def machine(values: dict[str, int | Decimal | None] | None = None) -> ExtractionResult:
    """A 2021 result: every cell 0 (so every identity passes) unless given; identities checked as the
    pipeline checks them, plus one soft check that a re-check must keep."""
    values = values or {}
    cells = {}
    for cid in load_format("2021").cells:
        v = values.get(cid, 0)
        cells[cid] = CellOut(
            value=v,
            raw="" if v is None else str(v),
            blank=v is None,
            confidence=0.9,
            page=1,
            source="text_layer",
        )
    result = ExtractionResult(
        source=SourceOut(filename="r.pdf", sha256="a" * 64, media_type="application/pdf", pages=1),
        format="2021",
        metadata=MetadataOut(agency="某某区人民政府", year=2023),
        pages=[PageOut(number=1, text_source="text_layer")],
        cells=cells,
        sections=[
            SectionOut(
                key="overview",
                paragraphs=[
                    ParagraphOut(text="第一段。", label="overview", confidence=0.7),
                    ParagraphOut(text="第二段。", label="problems", confidence=0.6),
                ],
            ),
            SectionOut(key="other", paragraphs=[ParagraphOut(text="第三段。", confidence=0.5)]),
        ],
        checks=[],
    )
    recheck(result)
    result.checks.append(SOFT)
    return result


def cell_fix(cid: str, value: object, n: int = 1, at: datetime = T0) -> Correction:
    change = parse_cell_value("2021", cid, value)
    return Correction(id=n, target_id=cid, change=change, reason="read again", by="rev1", at=at)


def para_fix(n: int, change: ParagraphChange, cid: int = 1, at: datetime = T0) -> Correction:
    return Correction(id=cid, target_id=str(n), change=change, reason="typo", by="rev1", at=at)


def statuses(result: ExtractionResult) -> dict[str, str]:
    return {c.id: c.status for c in result.checks}


def test_without_corrections_the_machine_result_is_served_as_is() -> None:
    m = machine()
    served = merge(m, [])
    assert served.to_json() == m.model_dump(mode="json")
    assert served.result is not m and served.failing_count() == 0
    assert not served.cell_marks and not served.paragraph_marks


def test_a_correction_that_fixes_a_failing_identity_turns_it_to_pass() -> None:
    # The machine read the appeals total as 0 beside an upheld count of 11: the identity fails.
    m = machine({"appeals.review.upheld": 11})
    before = merge(m, [])
    assert {c.id for c in before.result.checks if c.status == "fail"} == {"appeals_total:review"}

    after = merge(m, [cell_fix("appeals.review.total", "11")])
    assert statuses(after.result)["appeals_total:review"] == "pass"
    changes = check_changes(before, after)
    assert {"id": "appeals_total:review", "before": "fail", "after": "pass"} in [
        c.model_dump() for c in changes
    ]
    # Exactly the checks whose status moved, nothing else.
    moved = {i for i, s in statuses(after.result).items() if statuses(before.result)[i] != s}
    assert {c.id for c in changes} == moved
    assert before.failing_count() == 1 and after.failing_count() == 0

    cell = after.result.cells["appeals.review.total"]
    assert (cell.value, cell.raw, cell.confidence, cell.blank) == (11, "11", 1.0, False)
    mark = after.cell_marks["appeals.review.total"]
    assert (mark.machine_value, mark.machine_raw, mark.by, mark.correction_id) == (0, "0", "rev1", 1)
    assert mark.at == "2024-05-01T08:00:00.000Z"
    served = after.to_json()
    assert served["cells"]["appeals.review.total"]["corrected"]["machine_value"] == 0
    assert "corrected" not in served["cells"]["appeals.review.upheld"]
    # The soft check keeps its machine status, after the identities.
    assert after.result.checks[-1] == SOFT
    assert m.cells["appeals.review.total"].value == 0  # the machine result is not touched


def test_a_correction_that_breaks_an_identity_makes_it_fail() -> None:
    m = machine()
    before = merge(m, [])
    after = merge(m, [cell_fix("requests.new.natural_person", 5)])
    changes = check_changes(before, after)
    # The cell is in its row total and in its column's balance: both fail now, nothing else moved.
    assert {(c.id, c.before, c.after) for c in changes} == {
        ("row_total:new", "pass", "fail"),
        ("balance:natural_person", "pass", "fail"),
    }
    assert after.failing_count() == 2 == review.failing_count(after)
    assert after.cell_json("requests.new.natural_person")["value"] == 5


def test_the_latest_correction_of_a_cell_wins_and_blank_totals_are_inferred_again() -> None:
    # A printed-blank row total is inferred from its row, beside the null value.
    m = machine({"requests.new.total": None, "requests.new.commercial": 2})
    assert m.cells["requests.new.total"].inferred_value == 2
    # Applied in time order: the later one (though its id is higher here, time decides) wins.
    later = T0 + timedelta(minutes=5)
    fixes = [
        cell_fix("requests.new.commercial", 4, n=2, at=later),
        cell_fix("requests.new.commercial", 9, n=1),
    ]
    served = merge(m, fixes)
    assert served.result.cells["requests.new.commercial"].value == 4
    assert served.cell_marks["requests.new.commercial"].correction_id == 2
    total = served.result.cells["requests.new.total"]
    assert (total.value, total.inferred, total.inferred_value) == (None, True, 4)
    assert "corrected" not in served.cell_json("requests.new.total")


def test_a_correction_to_blank_and_a_decimal_amount() -> None:
    m = machine({FEES: Decimal("2.5")})
    assert CellChange.of(m.cells[FEES]) == CellChange(value=Decimal("2.5"), raw="2.5", blank=False, note=None)
    served = merge(m, [cell_fix(FEES, None, n=1), cell_fix("requests.new.natural_person", "1,234", n=2)])
    fees = served.result.cells[FEES]
    assert (fees.value, fees.raw, fees.blank) == (None, "", True)
    assert served.cell_json(FEES)["corrected"]["machine_value"] == 2.5
    assert served.result.cells["requests.new.natural_person"].value == 1234
    amount = parse_cell_value("2021", FEES, 3)
    assert amount.value == Decimal("3") and amount.as_json()["value"] == 3.0 and amount.raw == "3"


def test_a_correction_of_a_cell_the_result_does_not_have_is_ignored() -> None:
    m = machine()
    served = merge(m, [cell_fix("nope.cell", 1)])
    assert served.to_json() == m.model_dump(mode="json")


def test_paragraph_corrections_change_text_and_label_and_are_marked() -> None:
    m = machine()
    fixes = [
        para_fix(1, ParagraphChange(text="更正后的第一段。"), cid=1),
        para_fix(2, ParagraphChange(label=None), cid=2),  # clear_label
        para_fix(3, ParagraphChange(label="improvements"), cid=3),
        para_fix(99, ParagraphChange(label="overview"), cid=4),  # no such paragraph: ignored
    ]
    served = merge(m, fixes)
    p1, p2, p3 = served.paragraphs()
    assert (p1.text, p1.label, p1.confidence) == ("更正后的第一段。", "overview", 0.7)  # the label stays
    assert (p2.text, p2.label, p2.confidence) == ("第二段。", None, 1.0)
    assert (p3.label, p3.confidence) == ("improvements", 1.0)
    assert served.paragraph_marks[1].machine_text == "第一段。"
    assert served.paragraph_marks[2].machine_label == "problems"
    assert set(served.paragraph_marks) == {1, 2, 3}
    out = served.paragraph_json(3)
    assert out["corrected"]["machine_label"] is None and out["corrected"]["correction_id"] == 3
    data = served.to_json()
    assert data["sections"][1]["paragraphs"][0]["corrected"]["reason"] == "typo"
    # Paragraph corrections leave the checks alone.
    assert served.result.checks == m.checks and served.failing_count() == 0


def test_paragraph_change_holds_only_the_given_fields() -> None:
    change = ParagraphChange.model_validate({"label": None})
    assert change.sets_label and not change.sets_text and change.as_json() == {"label": None}
    both = ParagraphChange(text="新", label="problems")
    assert both.as_json() == {"text": "新", "label": "problems"}
    current = ParagraphOut(text="旧", label="overview", confidence=0.4)
    assert both.replaced_in(current).as_json() == {"text": "旧", "label": "overview"}
    assert change.replaced_in(current).as_json() == {"label": "overview"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (11, {"value": 11, "raw": "11", "blank": False, "note": None}),
        ("1,234", {"value": 1234, "raw": "1,234", "blank": False, "note": None}),
        (7.0, {"value": 7, "raw": "7", "blank": False, "note": None}),
        (None, {"value": None, "raw": "", "blank": True, "note": None}),
        ("—", {"value": None, "raw": "—", "blank": True, "note": None}),
    ],
)
def test_parse_cell_value(value: object, expected: dict[str, object]) -> None:
    assert parse_cell_value("2021", "requests.new.total", value).as_json() == expected


@pytest.mark.parametrize("value", [True, float("nan"), "十一", "x" * 201, [1]])
def test_parse_cell_value_refuses(value: object) -> None:
    with pytest.raises(BadCorrection):
        parse_cell_value("2021", "requests.new.total", value)


# --- the workflow on a session ------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'g.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


def test_workflow_stores_corrections_and_serves_them(db: Database) -> None:
    m = machine({"appeals.review.upheld": 11, FEES: Decimal("3")})
    with db.session() as s:
        key, _ = repo.create_key(s, "reviewer", "r")
        doc, _ = repo.create_document(
            s,
            sha256="b" * 64,
            media_type="application/pdf",
            size=1,
            filename="r.pdf",
            pages=1,
            key_id=key.id,
            max_attempts=3,
        )
        assert review.served_result(s, doc.id) is None
        with pytest.raises(RuntimeError, match="no stored result"):
            review.require_served_result(s, doc.id)
        s.add(ResultRow(document_id=doc.id, result_json=m.to_json(indent=None), created_at=utcnow()))
        doc.status, doc_id, key_id = "done", doc.id, key.id

    with db.session() as s:
        before = review.require_served_result(s, doc_id)
        # From the stored JSON text: the amount 3.0 is served as 3.0 again, not as the integer 3.
        assert before.to_json() == json.loads(m.to_json(indent=None))
        assert isinstance(before.result.cells[FEES].value, Decimal)
        doc = repo.get_document(s, doc_id)
        assert doc is not None
        new = parse_cell_value("2021", "appeals.review.total", 11)
        row, after = review.correct_cell(
            s, doc, before, "appeals.review.total", new, reason="sum", key_id=key_id
        )
        assert json.loads(row.old_json) == {"value": 0, "raw": "0", "blank": False, "note": None}
        assert json.loads(row.new_json) == {"value": 11, "raw": "11", "blank": False, "note": None}
        assert doc.failing_checks == after.failing_count() == before.failing_count() - 1

        para = ParagraphChange(label="other_matters")
        prow, pafter = review.correct_paragraph(s, doc, after, 2, para, reason="", key_id=key_id)
        assert (prow.target, prow.target_id, json.loads(prow.old_json)) == (
            "paragraph",
            "2",
            {"label": "problems"},
        )
        assert pafter.paragraph_json(2)["label"] == "other_matters"

    with db.session() as s:
        served = review.require_served_result(s, doc_id)
        assert served.cell_marks["appeals.review.total"].machine_value == 0
        assert served.paragraph_marks[2].machine_label == "problems"
        assert served.to_json()["cells"][FEES]["value"] == 3.0
        assert [r.target for r in repo.history(s, doc_id)] == ["cell", "paragraph"]


def test_a_corrected_cell_no_longer_waits_for_review() -> None:
    m = machine({"appeals.review.upheld": 11})
    flagged = m.cells["appeals.review.total"].model_copy(update={"review": True, "review_reason": "repair"})
    m.cells["appeals.review.total"] = flagged
    after = merge(m, [cell_fix("appeals.review.total", "11")])
    cell = after.result.cells["appeals.review.total"]
    assert (cell.review, cell.review_reason) == (False, None)
    assert m.cells["appeals.review.total"].review  # the machine's flag is kept in the machine result
