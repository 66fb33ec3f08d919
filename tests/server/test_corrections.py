"""A reviewer's corrected value is stored exactly as sent or refused; a correction that changes nothing
is not recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gongkai.server import review
from gongkai.server.api.schemas import CellCorrection, ParagraphCorrection
from gongkai.server.review import BadCorrection, CellChange, ParagraphChange, merge, parse_cell_value
from gongkai.server.review.corrections import MAX_VALUE, Correction
from gongkai.server.storage import migrate
from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database
from gongkai.server.storage.models import ResultRow, utcnow
from tests.server.test_review import FEES, T0, machine

COUNT = "requests.new.total"
MACHINE = machine()


def cell(cell_id: str, value: object) -> CellChange:
    return parse_cell_value("2021", cell_id, value)


# --- the defects of issue 11 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell_id", "value", "expected"),
    [
        (FEES, 0.0005, Decimal("0.0005")),
        (FEES, 1e-4, Decimal("0.0001")),
        (FEES, 3.0, Decimal("3")),
        (FEES, "1e5", Decimal("100000")),
        (FEES, "2.5E-3", Decimal("0.0025")),
        (FEES, 99999999999.9999, Decimal("99999999999.9999")),
        (COUNT, 1e5, 100000),
        (COUNT, "1e5", 100000),
        (COUNT, "１ｅ５", 100000),
        (COUNT, Decimal("1E+3"), 1000),
        (COUNT, 999_999_999_999, 999_999_999_999),
    ],
)
def test_numbers_in_any_notation_are_stored_exactly(cell_id: str, value: object, expected: object) -> None:
    got = cell(cell_id, value).value
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("cell_id", "value"),
    [
        (FEES, 0.00005),  # was stored as 5.0: repr gives 5e-05 and "e-05" was read as a note
        (FEES, "0.00005"),
        (COUNT, 0.00001),  # was 1
        (COUNT, 2e-7),  # was 2
        (COUNT, "1e-05"),
        (COUNT, "1e5x"),
        (COUNT, "1e99999999999999999999"),  # past what Decimal holds
        (FEES, "1e-99999999999"),
        (COUNT, float("inf")),
        (COUNT, float("-inf")),
        (FEES, float("inf")),
        (COUNT, float("nan")),
        (FEES, Decimal("NaN")),
        (FEES, Decimal("sNaN")),
        (COUNT, 10**400),
        pytest.param(COUNT, -(10**5000), id="minus-10**5000"),  # too long for str(), so is its message
        (COUNT, 1e30),
        (FEES, 1e30),
        (COUNT, MAX_VALUE),
        (FEES, Decimal(MAX_VALUE)),
        (FEES, "900000003378.0229"),  # its JSON float reads back as 900000003378.023
        (FEES, -0.5),
        (COUNT, True),
        (FEES, False),
        (COUNT, [1]),
    ],
)
def test_values_that_cannot_be_stored_exactly_are_refused(cell_id: str, value: object) -> None:
    with pytest.raises(BadCorrection):
        cell(cell_id, value)


def test_the_request_models_take_real_booleans_and_numbers_only() -> None:
    for bad in (True, False, [1], {"v": 1}):
        with pytest.raises(ValidationError):
            CellCorrection.model_validate({"value": bad})
    assert CellCorrection.model_validate({"value": 1}).value == 1
    assert isinstance(CellCorrection.model_validate({"value": 1.0}).value, float)
    for bad_flag in ("yes", 1, "true"):
        with pytest.raises(ValidationError):
            ParagraphCorrection.model_validate({"clear_label": bad_flag})
    assert ParagraphCorrection.model_validate({"clear_label": True}).clear_label is True
    with pytest.raises(ValidationError):
        ParagraphChange.model_validate({"label": 1})


# --- any value: stored exactly or refused -----------------------------------------------------------

_DIGITS = st.integers(min_value=0, max_value=10**20)
_EXPONENT_TEXT = st.builds(
    lambda m, f, e, c: f"{m}{'.' + str(f) if f is not None else ''}{c}{e}",
    _DIGITS,
    st.none() | _DIGITS,
    st.integers(min_value=-30, max_value=30),
    st.sampled_from(["e", "E"]),
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**14), max_value=10**14),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 10**12 - 1, 10**12]),
    st.floats(),
    st.floats(min_value=0, max_value=1e13),
    st.decimals(),
    st.decimals(min_value=0, max_value=10**12, places=4),
    st.decimals(min_value=0, max_value=10**12, places=6),
    st.integers(min_value=-(10**14), max_value=10**14).map(str),
    st.integers(min_value=0, max_value=10**14).map(lambda n: f"{n:,}"),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats().map(repr),
    _EXPONENT_TEXT,
)


def sent_number(value: object) -> int | Decimal:
    """The number a reviewer sent, exactly (``value`` is one of VALUES, not None or a bool)."""
    if isinstance(value, float):
        return Decimal(repr(value))  # the JSON number's text, as the API receives it
    if isinstance(value, str):
        return Decimal(value.replace(",", ""))
    assert isinstance(value, int | Decimal)
    return value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell_id=st.sampled_from([COUNT, FEES]), value=VALUES)
def test_any_value_is_stored_exactly_or_refused(cell_id: str, value: object) -> None:
    try:
        change = cell(cell_id, value)
    except BadCorrection:
        assert value is not None
        return
    if value is None:
        assert change.blank and change.value is None
        return
    assert not isinstance(value, bool)
    sent = sent_number(value)
    assert change.value == sent
    assert isinstance(change.value, Decimal if cell_id == FEES else int)
    assert 0 <= change.value < MAX_VALUE
    # …and it reads back the same from its stored JSON and from the served result's JSON.
    assert CellChange.model_validate_json(json.dumps(change.as_json())).value == sent
    fix = Correction(id=1, target_id=cell_id, change=change, reason="", by="rev1", at=T0)
    served = merge(MACHINE, [fix]).cell_json(cell_id)["value"]
    assert Decimal(repr(served)) == sent


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=MAX_VALUE - 1),
    amount=st.decimals(min_value=0, max_value=10**11, places=4),
)
def test_exact_values_in_range_are_not_refused(count: int, amount: Decimal) -> None:
    for value in (count, str(count), f"{count:,}", float(count)):
        assert cell(COUNT, value).value == count
    assert cell(FEES, amount).value == amount
    assert cell(FEES, str(amount)).value == amount


# --- a correction that changes nothing is not recorded ------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'g.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


def _stored_document(db: Database) -> tuple[str, str]:
    with db.session() as s:
        key, _ = repo.create_key(s, "reviewer", "r")
        doc, _ = repo.create_document(
            s,
            sha256="c" * 64,
            media_type="application/pdf",
            size=1,
            filename="r.pdf",
            pages=1,
            key_id=key.id,
            max_attempts=3,
        )
        s.add(ResultRow(document_id=doc.id, result_json=MACHINE.to_json(indent=None), created_at=utcnow()))
        doc.status = "done"
        return doc.id, key.id


def test_a_correction_equal_to_what_a_person_set_is_not_recorded(db: Database) -> None:
    doc_id, key_id = _stored_document(db)
    with db.session() as s:
        doc = repo.get_document(s, doc_id)
        assert doc is not None
        before = review.require_served_result(s, doc_id)
        # The machine's own value, sent by a person, confirms the cell: recorded.
        first, after = review.correct_cell(s, doc, before, COUNT, cell(COUNT, 0), reason="ok", key_id=key_id)
        again, same = review.correct_cell(s, doc, after, COUNT, cell(COUNT, "0"), reason="", key_id=key_id)
        assert again.id == first.id and same is after
        changed, _ = review.correct_cell(s, doc, after, COUNT, cell(COUNT, 3), reason="", key_id=key_id)
        assert changed.id != first.id

        fees, after = review.correct_cell(
            s,
            doc,
            review.require_served_result(s, doc_id),
            FEES,
            cell(FEES, "2.50"),
            reason="",
            key_id=key_id,
        )
        fees_again, _ = review.correct_cell(s, doc, after, FEES, cell(FEES, 2.5), reason="", key_id=key_id)
        assert fees_again.id == fees.id

        label = ParagraphChange(label="problems")  # paragraph 2's machine label: a confirmation
        p1, after = review.correct_paragraph(s, doc, after, 2, label, reason="", key_id=key_id)
        p2, _ = review.correct_paragraph(s, doc, after, 2, label, reason="", key_id=key_id)
        assert p2.id == p1.id
        text = ParagraphChange(text="第一段。")  # unchanged text of an uncorrected paragraph: recorded
        t1, after = review.correct_paragraph(s, doc, after, 1, text, reason="", key_id=key_id)
        # Paragraph 1 now has a mark, but its label was never confirmed by a person: recorded.
        t2, after = review.correct_paragraph(
            s, doc, after, 1, ParagraphChange(label="overview"), reason="", key_id=key_id
        )
        assert t2.id != t1.id
        t3, _ = review.correct_paragraph(
            s, doc, after, 1, ParagraphChange(text="第一段。", label="overview"), reason="", key_id=key_id
        )
        assert t3.id == t2.id
    with db.session() as s:
        assert len(repo.history(s, doc_id)) == 6
