"""Report metadata from the title block and the text: title, agency, region, year."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gongkai.pipeline.labels import fold_width

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")
_TITLE = re.compile(r"^(?P<agency>.*?)\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*政府信息公开(?:工作)?年度?报告")
# The administrative area in a name: provinces, cities, counties, districts, banners, towns, streets.
_REGION = re.compile(
    r"^(?:[\u4e00-\u9fff]{2,8}?(?:省|自治区))?(?:[\u4e00-\u9fff]{1,8}?(?:市|自治州|地区|盟))?"
    r"(?:[\u4e00-\u9fff]{1,8}?(?:区|县|自治县|旗|县级市))?(?:[\u4e00-\u9fff]{1,8}?(?:镇|乡|街道))?"
)
_FUNCTION_CHARS = set("由在对于和与的及向为是经从据按将把被请")
_BODY = re.compile(r"(人民政府|办公室|办公厅|委员会|局|厅|委|办|中心|街道办事处)")
_AGENCY_IN_TEXT = re.compile(
    r"([\u4e00-\u9fff]{2,30}?(?:人民政府办公室|人民政府办公厅|人民政府|局|厅|委员会|街道办事处|管理办公室))"
)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", fold_width(text))


def region_of(agency: str) -> str | None:
    """The administrative area an agency name opens with (淮安市洪泽区人民政府 → 淮安市洪泽区)."""
    m = _REGION.match(agency)
    region = m.group(0) if m else ""
    # A bare body name (市生态环境局) has no area of its own.
    if not region or region in ("市", "区", "县", "省") or _BODY.fullmatch(region):
        return None
    return region


def extract_metadata(title: str | None, paragraphs: Sequence[str]) -> dict[str, str | int | None]:
    """Title, agency, region, year; the text fills in what the title lacks (or a fuller region)."""
    out: dict[str, str | int | None] = {"title": None, "agency": None, "region": None, "year": None}
    if title:
        t = _compact(title)
        out["title"] = t
        m = _TITLE.match(t)
        if m:
            out["agency"] = m.group("agency") or None
            out["year"] = int(m.group("year"))
        else:
            y = _YEAR.search(t)
            out["year"] = int(y.group(1)) if y else None
    text = [_compact(p) for p in paragraphs[:8]]
    if out["year"] is None:
        for p in text:
            y = _YEAR.search(p)
            if y:
                out["year"] = int(y.group(1))
                break
    agency = out["agency"] if isinstance(out["agency"], str) else None
    if agency is None:
        for p in text:
            m = _AGENCY_IN_TEXT.search(p)
            if m:
                agency = m.group(1)
                break
        out["agency"] = agency
    if agency:
        region = region_of(agency)
        # The text often names the agency with its city (淮安市洪泽区人民政府办公室): prefer that.
        if region:
            for p in text:
                m = re.search(r"([\u4e00-\u9fff]{2,3}(?:市|省))" + re.escape(region), p)
                if m and not region.startswith(m.group(1)):
                    city = m.group(1)
                    # 由淮安市 → 淮安市: a leading function word is not part of a place name.
                    region = (city[1:] if len(city) == 4 and city[0] in _FUNCTION_CHARS else city) + region
                    break
        out["region"] = region
    return out
