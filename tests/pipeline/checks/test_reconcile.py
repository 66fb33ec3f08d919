"""The identities over a hand-made mapping (no documents): pass, fail, not_assessable, inference."""

from __future__ import annotations

from gongkai.pipeline.checks import Check
from gongkai.pipeline.checks.reconcile import Reconciliation, reconcile
from gongkai.pipeline.confidence import LABEL_EXACT
from gongkai.pipeline.datamodel import TextSource
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import parse_number
from gongkai.pipeline.schema import load_format

FMT = load_format("2021")
COLUMNS = [c.id for c in FMT.requests_columns]
NEW_ROW = [f"requests.new.{c}" for c in COLUMNS]  # natural_person … other_org, total


def _reading(cid: str, text: str) -> CellReading:
    return CellReading(cid, text, parse_number(text), 1, None, TextSource.TEXT_LAYER, LABEL_EXACT)


def _reconcile(printed: dict[str, str | None], extra: dict[str, str] | None = None) -> Reconciliation:
    """Every statutory cell printed as 0 except those given (None: not found in the document)."""
    mapping = MappingResult()
    for cid in FMT.cells:
        text = printed.get(cid, "0")
        if text is not None:
            mapping.readings[cid] = _reading(cid, text)
    for cid, text in (extra or {}).items():
        mapping.extra[cid] = _reading(cid, text)
    return reconcile(FMT, mapping)


def _check(rec: Reconciliation, check_id: str) -> Check:
    return next(c for c in rec.checks if c.id == check_id)


def test_a_table_of_zeros_passes_every_identity_in_the_spec_s_order() -> None:
    rec = _reconcile({})
    assert [c.id for c in rec.checks] == [i.id for i in FMT.identities]
    assert {c.status for c in rec.checks} == {"pass"}
    assert {c.kind for c in rec.checks} == {"identity"}
    assert rec.warnings == []


def test_a_row_that_does_not_add_up_fails_and_names_its_cells() -> None:
    rec = _reconcile({"requests.new.natural_person": "3", "requests.new.total": "2"})
    chk = _check(rec, "row_total:new")
    assert chk.status == "fail"
    assert (chk.actual, chk.expected) == (2, 3)  # the printed total, the sum of its parts
    assert chk.cells == ["requests.new.total", *NEW_ROW[:-1]]
    assert chk.message == "总计等于自然人与五类法人或其他组织之和"
    assert "row_total:new" in rec.cells["requests.new.total"].failing_checks
    assert "row_total:new" in rec.cells["requests.new.natural_person"].failing_checks
    # The same numbers also break the balance of their columns; other rows are untouched.
    assert _check(rec, "balance:natural_person").status == "fail"
    assert _check(rec, "row_total:carried_in").status == "pass"
    assert rec.cells["requests.carried_in.commercial"].failing_checks == []


def test_a_missing_or_unreadable_cell_makes_its_checks_not_assessable() -> None:
    rec = _reconcile({"requests.new.commercial": None, "requests.carried_in.research": "若干"})
    new = _check(rec, "row_total:new")
    assert new.status == "not_assessable"
    assert "requests.new.commercial" in new.message and new.expected is None
    assert rec.cells["requests.new.commercial"].missing
    carried = _check(rec, "row_total:carried_in")
    assert carried.status == "not_assessable" and "requests.carried_in.research" in carried.message
    assert rec.warnings == [
        "requests.carried_in.research: " + str(rec.cells["requests.carried_in.research"].error)
    ]


def test_blank_details_count_as_zero_and_the_check_says_so() -> None:
    rec = _reconcile({"requests.new.research": "", "requests.new.nonprofit": "—"})
    chk = _check(rec, "row_total:new")
    assert chk.status == "pass"
    assert chk.message.endswith("（空白按0计：2格）")


def test_a_row_printed_entirely_blank_is_not_assessable() -> None:
    rec = _reconcile(dict.fromkeys(NEW_ROW, ""))
    chk = _check(rec, "row_total:new")
    assert chk.status == "not_assessable"
    assert chk.message.endswith("（各单元格均为空白）")


def test_a_blank_total_is_inferred_from_its_row_and_then_checked() -> None:
    printed = {"requests.new.natural_person": "4", "requests.new.commercial": "1", "requests.new.total": ""}
    printed |= {"requests.results_total.natural_person": "4", "requests.results_total.commercial": "1"}
    printed |= {"requests.granted.natural_person": "4", "requests.granted.commercial": "1"}
    printed |= {"requests.granted.total": "5", "requests.results_total.total": "5"}
    rec = _reconcile(printed)
    total = rec.cells["requests.new.total"]
    assert total.inferred and total.blank and total.value == 5
    assert _check(rec, "row_total:new").status == "pass"
    # The inferred total takes part in the column checks that follow the inference.
    balance = _check(rec, "balance:total")
    assert balance.status == "pass" and (balance.actual, balance.expected) == (5, 5)
    assert "空白" not in balance.message  # an inferred total is not a blank counted as 0


def test_a_blank_total_is_not_inferred_when_a_part_is_unreadable() -> None:
    rec = _reconcile({"requests.new.natural_person": "x", "requests.new.total": ""})
    assert not rec.cells["requests.new.total"].inferred
    assert rec.cells["requests.new.total"].value is None


def test_numbers_printed_on_a_group_row_get_subtotal_checks() -> None:
    group = {f"requests.denied.total.{c}": "0" for c in COLUMNS}
    group["requests.denied.total.natural_person"] = "2"
    rec = _reconcile({"requests.denied.state_secret.natural_person": "1"}, extra=group)
    chk = _check(rec, "subtotal:denied.natural_person")
    assert chk.status == "fail" and (chk.actual, chk.expected) == (2, 1)
    assert chk.cells[0] == "requests.denied.total.natural_person"
    assert not rec.cells["requests.denied.total.natural_person"].statutory
    assert _check(rec, "subtotal:denied.commercial").status == "pass"


def test_a_one_row_other_group_stands_in_for_its_missing_items() -> None:
    # A 2021 table printing （六）其他处理 as one row: its three items are missing, not 0, and the
    # identities use the printed row.
    items = {f"requests.other.{i}.{c}": None for i in ("no_correction", "no_fee", "other") for c in COLUMNS}
    row = {f"requests.other.total.{c}": "0" for c in COLUMNS}
    printed: dict[str, str | None] = {**items, "requests.results_total.natural_person": "1"}
    rec = _reconcile(printed, extra={**row, "requests.other.total.natural_person": "1"})
    chk = _check(rec, "results_total:natural_person")
    assert chk.status == "pass"
    assert chk.cells[-1] == "requests.other.total.natural_person"
    assert "requests.other.no_fee.natural_person" not in chk.cells
    assert any("（六）其他处理 as one row" in w for w in rec.warnings)
