"""Report metadata from the title block and the text: title, agency, region, year."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gongkai.pipeline.labels import fold_width
from gongkai.pipeline.nlp import regions

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")
# 2010s titles may drop 政府 (…地方税务局2013年信息公开年度报告)
_TITLE = re.compile(
    r"^(?P<agency>.*?)\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?:政府)?信息公开(?:工作)?年度?报告"
)
_AGENCY_IN_TEXT = re.compile(
    r"([\u4e00-\u9fff]{2,30}?(?:人民政府办公室|人民政府办公厅|人民政府|局|厅|委员会|街道办事处|管理办公室))"
)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", fold_width(text))


def region_of(agency: str) -> str | None:
    """The administrative area an agency name opens with (淮安市洪泽区人民政府 → 淮安市洪泽区), from the
    table of China's divisions (gongkai.pipeline.nlp.regions); None when unsure (市生态环境局)."""
    return regions.region_of(agency)


# characters of the sentence around a name, never inside one (和/与 are: 住房和城乡建设局)
_NOT_IN_NAMES = set("由在对于的向为是经从据按将把被请本报告")
_AGENCY_END = re.compile(
    r"(?:人民政府办公室|人民政府办公厅|人民政府|局|厅|委员会|街道办事处|管理办公室|办公室|中心)$"
)


def validated_agency(agency: str | None, title: str | None, paragraphs: Sequence[str]) -> str | None:
    """An agency name only when the document backs it: CJK only, ending in a known body, and found
    verbatim in the title or in the closing lines (the signature). An OCR misreading
    (准本报告由治安市人民政府办公室) is None rather than a confident wrong name."""
    if not agency:
        return None
    raw = name = _compact(agency)
    # 本报告由淮安市…办公室: the clause before the name is not part of it
    cut = max((name.rfind(c) for c in "由经"), default=-1)
    if 0 <= cut < len(name) - 4:
        name = name[cut + 1 :]
    if not re.fullmatch(r"[\u4e00-\u9fff]{3,40}", name) or not _AGENCY_END.search(name):
        return None
    if title and name in _compact(title):
        return name
    # a signature line is the name alone, maybe with the date
    for p in (_compact(p) for p in paragraphs[-4:]):
        if name in p and len(re.sub(r"\d{4}年\d{1,2}月(?:\d{1,2}日)?", "", p.replace(name, ""))) <= 2:
            return name
    # a name read whole from a sentence (2012年，海州区人民政府办公室认真…) stands on its own shape:
    # a region it opens with and no words of the sentence around it
    if name == raw and region_of(name) and not set(name) & _NOT_IN_NAMES:
        return name
    return None


def extract_metadata(
    title: str | None, paragraphs: Sequence[str], page_title: str | None = None
) -> dict[str, str | int | None]:
    """Title, agency, region, year. The agency comes from, in order of trust: the title, the web
    page's own title (``page_title``, HTML <title>/meta) when it names a report, the opening sentence,
    the signature block. The region is looked up in the table of divisions, never sliced out."""
    out: dict[str, str | int | None] = {"title": None, "agency": None, "region": None, "year": None}
    if not title and page_title:
        # a portal's <title> often carries the site name too: only a report's title counts
        pm = _TITLE.search(_compact(page_title))
        title = pm.group(0) if pm else None
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
        agency = _opening_agency(text)
        # read from the text: kept only when the title or the signature says the same
        agency = validated_agency(agency, title, paragraphs) or _signature_agency(paragraphs)
        out["agency"] = agency
    if agency:
        region = region_of(agency)
        # The text often names the agency with its city (淮安市洪泽区人民政府办公室): prefer that,
        # when the table of divisions puts the county in that city.
        if region:
            region = regions.fuller_region(region, [_compact(title or ""), *text]) or region
        out["region"] = region
    return out


def _opening_agency(text: Sequence[str]) -> str | None:
    """The agency the opening sentences name as their subject; names inside 《》 or “” are cited
    documents (《国务院办公厅关于…》), not the author."""
    for p in text[:3]:
        first = re.split(r"[。！？]", p, maxsplit=1)[0]
        first = re.sub(r"《[^》]*》|“[^”]*”|\"[^\"]*\"", "，", first)
        m = _AGENCY_IN_TEXT.search(first)
        if m:
            return m.group(1)
    return None


def _signature_agency(paragraphs: Sequence[str]) -> str | None:
    """A closing line that is an agency name alone, maybe with the date (the signature block)."""
    for p in reversed([_compact(p) for p in paragraphs[-4:]]):
        name = re.sub(r"(?:19|20)\d{2}年\d{1,2}月(?:\d{1,2}日)?$", "", p)
        if re.fullmatch(r"[\u4e00-\u9fff]{3,40}", name) and _AGENCY_END.search(name) and region_of(name):
            return name
    return None
