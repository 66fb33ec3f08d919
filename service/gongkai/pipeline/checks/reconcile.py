"""Reconciliation: evaluate the format's identities and soft checks over the mapped cells.

Order (statutory-tables.md): blank detail cells count as 0 (flagged), a blank 总计 is inferred from
its row and marked, then the column identities run. Nothing is hidden: a failure names its cells,
and a check whose inputs are missing says ``not_assessable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.pipeline.checks.model import Check, CheckStatus, Num
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import ParsedNumber
from gongkai.pipeline.schema import IdentityInstance, ReportFormat


@dataclass
class CellState:
    cell_id: str
    value: Num | None
    reading: CellReading | None
    blank: bool = False
    missing: bool = False
    inferred: bool = False
    error: str | None = None
    statutory: bool = True
    failing_checks: list[str] = field(default_factory=list)


@dataclass
class Reconciliation:
    cells: dict[str, CellState]
    checks: list[Check]
    warnings: list[str]


def _state(cell_id: str, reading: CellReading | None, statutory: bool) -> CellState:
    if reading is None:
        return CellState(cell_id, None, None, missing=True, statutory=statutory)
    p: ParsedNumber = reading.parsed
    return CellState(cell_id, p.value, reading, blank=p.blank, error=p.error, statutory=statutory)


def reconcile(fmt: ReportFormat, mapping: MappingResult) -> Reconciliation:
    cells: dict[str, CellState] = {cid: _state(cid, mapping.readings.get(cid), True) for cid in fmt.cells}
    for cid, reading in mapping.readings.items():
        cells.setdefault(cid, _state(cid, reading, True))  # legacy cells are keyed by their printed label
    for cid, reading in mapping.extra.items():
        cells[cid] = _state(cid, reading, False)
    warnings: list[str] = []
    for st in cells.values():
        if st.error:
            warnings.append(f"{st.cell_id}: {st.error}")
    checks: list[Check] = []
    if not fmt.has_statutory_tables:
        return Reconciliation(cells, checks, warnings)

    _infer_blank_totals(fmt, cells, checks)
    substitutes = _group_substitutes(fmt, cells, warnings)
    for ident in fmt.identities:
        checks.append(_evaluate(ident, cells, substitutes))
    checks.extend(_subtotal_checks(fmt, cells))
    for chk in checks:
        if chk.status == "fail":
            for cid in chk.cells:
                if cid in cells:
                    cells[cid].failing_checks.append(chk.id)
    return Reconciliation(cells, checks, warnings)


def _infer_blank_totals(fmt: ReportFormat, cells: dict[str, CellState], checks: list[Check]) -> None:
    """A blank 总计 whose row is otherwise complete takes the row's sum, marked inferred."""
    for ident in fmt.identities:
        if ident.family != "row_total":
            continue
        (total_id,) = ident.lhs
        total = cells[total_id]
        if not total.blank:
            continue
        parts = [cells[c] for c in ident.rhs]
        if any(p.missing or p.error for p in parts) or all(p.blank for p in parts):
            continue
        total.value = sum((p.value or 0 for p in parts), 0)
        total.inferred = True


def _group_substitutes(
    fmt: ReportFormat, cells: dict[str, CellState], warnings: list[str]
) -> dict[str, list[str]]:
    """When a 2021 table prints （六）其他处理 as one row, its items are missing: the identities use
    the printed row (kept as requests.other.total.*) in their place."""
    subs: dict[str, list[str]] = {}
    for group in fmt.requests_groups:
        items = _group_items(fmt, group.id)
        for col in fmt.requests_columns:
            total_id = f"requests.{group.id}.total.{col.id}"
            item_ids = [f"requests.{i}.{col.id}" for i in items]
            if total_id in cells and item_ids and all(cells[i].missing for i in item_ids if i in cells):
                subs[total_id] = item_ids
        if any(k.startswith(f"requests.{group.id}.total.") for k in subs):
            warnings.append(
                f"table 三 prints {group.label} as one row; its items are not reported separately "
                "and the identities use the printed row"
            )
    return subs


def _evaluate(ident: IdentityInstance, cells: dict[str, CellState], subs: dict[str, list[str]]) -> Check:
    rhs = list(ident.rhs)
    for total_id, items in subs.items():
        if all(i in rhs for i in items):
            rhs = [c for c in rhs if c not in items] + [total_id]
    involved = list(ident.lhs) + rhs
    states = [cells[c] for c in involved]
    problems = [s for s in states if s.missing or s.error]
    if problems:
        return Check(
            ident.id,
            "identity",
            "not_assessable",
            f"{ident.message}（无法核对：{'、'.join(s.cell_id for s in problems[:4])} 缺失或无法读取）",
            involved,
        )
    if all(s.blank for s in states):
        return Check(ident.id, "identity", "not_assessable", f"{ident.message}（各单元格均为空白）", involved)

    def total(ids: list[str] | tuple[str, ...]) -> Num:
        return sum((cells[c].value or 0 for c in ids), 0)

    actual, expected = total(ident.lhs), total(rhs)
    blanks = [s.cell_id for s in states if s.blank and not s.inferred]
    note = f"（空白按0计：{len(blanks)}格）" if blanks else ""
    status: CheckStatus = "pass" if actual == expected else "fail"
    return Check(
        ident.id, "identity", status, ident.message + note, involved, expected=expected, actual=actual
    )


def _group_items(fmt: ReportFormat, group_id: str) -> list[str]:
    """Row ids of a group's items in table 三 (denied.* under （三）不予公开 …)."""
    return [
        r.id for r in fmt.requests_rows if r.id.startswith(group_id + ".") and r.id != f"{group_id}.total"
    ]


def _subtotal_checks(fmt: ReportFormat, cells: dict[str, CellState]) -> list[Check]:
    """Where a report prints numbers on a group row, the group equals the sum of its items."""
    out: list[Check] = []
    for group in fmt.requests_groups:
        items = _group_items(fmt, group.id)
        if not items:
            continue
        for col in fmt.requests_columns:
            total_id = f"requests.{group.id}.total.{col.id}"
            if total_id not in cells or cells[total_id].statutory:
                continue
            item_ids = [f"requests.{i}.{col.id}" for i in items]
            if any(cells[i].missing for i in item_ids):
                continue  # the row stands in for its items (see _group_substitutes)
            ident = IdentityInstance(
                f"subtotal:{group.id}.{col.id}",
                "subtotal",
                (total_id,),
                tuple(item_ids),
                f"{group.label}等于其各项之和",
            )
            out.append(_evaluate(ident, cells, {}))
    return out
