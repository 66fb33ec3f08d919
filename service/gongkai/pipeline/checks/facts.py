"""Soft checks of the figures the narrative states (gongkai.pipeline.nlp.facts) against the tables."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from gongkai.pipeline.checks.model import Check, soft_check
from gongkai.pipeline.checks.reconcile import CellState
from gongkai.pipeline.result import FactOut


def _cell(cells: Mapping[str, CellState], cid: str) -> int | Decimal | None:
    st = cells.get(cid)
    if st is None or st.missing or st.value is None:
        return None
    return st.value


def _first(facts: list[FactOut], kind: str) -> FactOut | None:
    return next((f for f in facts if f.kind == kind), None)


def _compare(check_id: str, fact: FactOut, table: int | Decimal, cells: list[str], what: str) -> Check:
    ok = fact.value == table
    msg = (
        f"正文{what}{fact.value}{fact.unit or ''}，与表格（{table}）一致"
        if ok
        else f"正文{what}{fact.value}{fact.unit or ''}，与表格（{table}）不一致"
    )
    chk = soft_check(check_id, ok, msg, cells)
    chk.expected, chk.actual = table, fact.value
    return chk


def fact_checks(facts: list[FactOut], cells: Mapping[str, CellState]) -> list[Check]:
    """Soft checks (pass/warn) of the narrative's figures against the statutory tables."""
    checks: list[Check] = []
    received = _first(facts, "requests_received")
    new = _cell(cells, "requests.new.total")
    if received is not None and new is not None:
        carried = _cell(cells, "requests.carried_in.total")
        if received.value != new and carried is not None and received.value == new + carried:
            # Some reports count new plus carried-over applications as 受理.
            chk = soft_check(
                "text.requests_received",
                True,
                f"正文受理申请{received.value}件，等于表三本年新收（{new}）加上年结转（{carried}）",
                ["requests.new.total", "requests.carried_in.total"],
            )
            chk.expected, chk.actual = new + carried, received.value
            checks.append(chk)
        else:
            checks.append(
                _compare("text.requests_received", received, new, ["requests.new.total"], "受理申请")
            )
    pairs = (
        ("requests_carried_in", "text.requests_carried_in", ["requests.carried_in.total"], "上年结转申请"),
        ("requests_answered", "text.requests_answered", ["requests.results_total.total"], "答复/办结申请"),
        ("review_cases", "text.review_cases", ["appeals.review.total"], "行政复议"),
        (
            "lawsuit_cases",
            "text.lawsuit_cases",
            ["appeals.suit_direct.total", "appeals.suit_after_review.total"],
            "行政诉讼",
        ),
    )
    for kind, check_id, cell_ids, what in pairs:
        fact = _first(facts, kind)
        values = [_cell(cells, c) for c in cell_ids]
        if fact is None or any(v is None for v in values):
            continue
        total = sum(v for v in values if v is not None)
        checks.append(_compare(check_id, fact, total, cell_ids, what))
    fees = [f for f in facts if f.kind == "fees_collected"]
    if fees:
        # No statutory cell holds 信息处理费 (active.fees.amount is 行政事业性收费, another thing), so
        # the narrative's fee statements are checked against each other.
        yuan = {f.value * 10000 if f.unit == "万元" else f.value for f in fees}
        ok = len(yuan) == 1
        msg = (
            f"正文所述信息处理费一致（{fees[0].value}{fees[0].unit}）"
            if ok
            else "正文多处所述信息处理费金额不一致：" + "、".join(f"{f.value}{f.unit}" for f in fees)
        )
        checks.append(soft_check("text.fees_collected", ok, msg, []))
    return checks
