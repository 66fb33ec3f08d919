"""Soft checks of a legacy statistics table: a numbered total equals the sum of its numbered items.

Tables varied by province before 2019, so these only warn (the rows come from
gongkai.pipeline.legacy.map_legacy).
"""

from __future__ import annotations

from decimal import Decimal

from gongkai.pipeline.checks.model import Check
from gongkai.pipeline.checks.reconcile import CellState
from gongkai.pipeline.legacy import LegacyRow


def legacy_checks(rows: list[LegacyRow], cells: dict[str, CellState]) -> list[Check]:
    """A numbered total equals the sum of the numbered items right under it (soft: tables vary)."""
    checks: list[Check] = []
    for i, parent in enumerate(rows):
        if parent.level not in (1, 2):
            continue
        children: list[LegacyRow] = []
        for row in rows[i + 1 :]:
            if row.level in (1, 2) and row.level <= parent.level:
                break
            if row.level == parent.level + 1 or (parent.level == 2 and row.level == 3):
                children.append(row)
        total = cells.get(parent.cell_id)
        parts = [cells.get(c.cell_id) for c in children]
        if (
            len(children) < 2
            or total is None
            or total.value is None
            or any(p is None or p.value is None for p in parts)
        ):
            continue
        actual: int | Decimal = total.value
        expected: int | Decimal = sum((p.value for p in parts if p is not None and p.value is not None), 0)
        ok = actual == expected
        checks.append(
            Check(
                f"legacy_sum:{parent.label}",
                "soft",
                "pass" if ok else "warn",
                f"{parent.label}等于其各项之和" if ok else f"{parent.label}与其各项之和不符",
                [parent.cell_id, *(c.cell_id for c in children)],
                expected=expected,
                actual=actual,
            )
        )
    return checks
