"""A check as the stages produce it, and as the result contract shows it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gongkai.pipeline.result import CheckKind, CheckOut, CheckStatus

__all__ = ["Check", "CheckKind", "CheckStatus", "Num", "check_out", "soft_check"]

Num = int | Decimal


@dataclass
class Check:
    id: str
    kind: CheckKind  # identity: a statutory identity; soft: a plausibility check that only warns
    status: CheckStatus
    message: str
    cells: list[str]
    expected: Num | None = None
    actual: Num | None = None


def soft_check(check_id: str, ok: bool, message: str, cells: list[str]) -> Check:
    """A soft check passes or warns; it never fails a report."""
    return Check(check_id, "soft", "pass" if ok else "warn", message, cells)


def check_out(c: Check) -> CheckOut:
    """A check as the result contract shows it (the API's re-checks use the same)."""
    return CheckOut(
        id=c.id,
        kind=c.kind,
        status=c.status,
        expected=c.expected,
        actual=c.actual,
        cells=c.cells,
        message=c.message,
    )
