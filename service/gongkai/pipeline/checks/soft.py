"""Soft checks on one report that need no other year's report (warnings, never failures)."""

from __future__ import annotations

import re

from gongkai.pipeline.checks.model import Check, soft_check
from gongkai.pipeline.checks.reconcile import CellState
from gongkai.pipeline.datamodel import Element, ElementKind
from gongkai.pipeline.labels import fold_width
from gongkai.pipeline.schema import ReportFormat

_PERIOD = re.compile(
    r"(?:统计期限|统计期|统计时限|数据统计期限)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日"
)
# Bodies that cannot make 规章: county level and below (区、县、镇、乡、街道) and their departments.
_COUNTY = re.compile(r"(区|县|旗|镇|乡|街道|县级市)")
_RULE_MAKERS = re.compile(r"(国务院|省人民政府|自治区人民政府|直辖市|^[^区县]*市人民政府$)")


def year_consistency(year: int | None, elements: list[Element]) -> list[Check]:
    """The title's year and the statistics period stated in the text agree."""
    if year is None:
        return []
    for el in elements[:12]:
        if el.kind != ElementKind.PARAGRAPH:
            continue
        m = _PERIOD.search(fold_width(el.text))
        if m:
            stated = int(m.group(1))
            ok = stated == year
            msg = (
                f"统计期限年份（{stated}）与报告年度（{year}）一致"
                if ok
                else (f"统计期限年份（{stated}）与报告年度（{year}）不一致")
            )
            return [soft_check("year.period", ok, msg, [])]
    return []


def regulations_at_county_level(
    agency: str | None, fmt: ReportFormat, cells: dict[str, CellState]
) -> list[Check]:
    """规章 is 0 0 0 for bodies that cannot make 规章; a non-zero there is suspicious."""
    if not agency or fmt.id == "legacy" or not _COUNTY.search(agency) or _RULE_MAKERS.search(agency):
        return []
    ids = [cid for cid in cells if cid.startswith(f"{fmt.active_prefix}.regulations.")]
    nonzero = [cid for cid in ids if cells[cid].value not in (None, 0)]
    ok = not nonzero
    msg = "县级及以下机关规章栏为0" if ok else f"{agency}属县级及以下，通常无规章制定权，但规章栏不为0"
    return [soft_check("active.regulations_county", ok, msg, ids)]
