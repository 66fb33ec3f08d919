"""Soft check of the narrative's structure: the format's section headings, present and in order."""

from __future__ import annotations

from gongkai.pipeline.checks.model import Check, soft_check
from gongkai.pipeline.result import SectionOut
from gongkai.pipeline.schema import ReportFormat


def section_checks(sections: list[SectionOut], fmt: ReportFormat) -> list[Check]:
    """Soft check: the format's six headings are present and in order."""
    expected = [s.key for s in fmt.sections]
    found = [s.key for s in sections if s.key in expected]
    missing = [k for k in expected if k not in found]
    in_order = found == sorted(found, key=expected.index)
    if fmt.id == "legacy":
        return []
    ok = not missing and in_order
    msg = (
        "六个部分齐全且顺序正确"
        if ok
        else (f"缺少部分：{'、'.join(missing)}" if missing else "各部分顺序与格式不一致")
    )
    return [soft_check("sections.order", ok, msg, [])]
