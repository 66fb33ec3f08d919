"""Small constructors shared by the stages that emit checks."""

from __future__ import annotations

from gongkai.pipeline.checks.reconcile import Check


def soft_check(check_id: str, ok: bool, message: str, cells: list[str]) -> Check:
    """A soft check passes or warns; it never fails a report."""
    return Check(check_id, "soft", "pass" if ok else "warn", message, cells)
