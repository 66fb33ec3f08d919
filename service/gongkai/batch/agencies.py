"""Agency names across documents: one key per agency, its administrative level, and re-issues.

Reports name the same body differently from year to year (平潭综合实验区管委会 / 平潭综合实验区 /
平潭综合实验区管理委员会; 某区人民政府 / 某区政府). ``agency_key`` folds those spellings; a
department (某市生态环境局) keeps its full name, since it is a body of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gongkai.pipeline.labels import fold_width

# Names of a government or its office, which report for the area itself: dropped from the key when
# what remains is a place. Longest first, so 人民政府办公室 goes before 人民政府.
_GOVERNMENT_SUFFIXES = (
    "人民政府办公室",
    "人民政府办公厅",
    "政府办公室",
    "政府办公厅",
    "管理委员会办公室",
    "管委会办公室",
    "管理委员会",
    "人民政府",
    "管委会",
    "政府",
)
_PLACE_END = re.compile(r"(省|自治区|市|自治州|地区|盟|区|县|自治县|旗|镇|乡|街道|实验区|新区|开发区|园区)$")
_NOISE = re.compile(r"[\s\u3000·•()（）〔〕\[\]【】“”\"'《》]")
_LEVELS = (
    (re.compile(r"(镇|乡|街道|街道办事处)$"), "township"),
    (re.compile(r"(区|县|自治县|旗|县级市)$"), "county"),
    (re.compile(r"(市|自治州|地区|盟)$"), "prefecture"),
    (re.compile(r"(省|自治区)$"), "province"),
)
_SPECIAL_ZONE = re.compile(r"(实验区|新区|开发区|园区)$")
_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


def agency_key(name: str | None) -> str | None:
    """The normalised agency name documents are grouped by; None when the name is unknown."""
    if not name:
        return None
    key = _NOISE.sub("", fold_width(name))
    key = re.sub(r"^关于", "", key)
    for suffix in _GOVERNMENT_SUFFIXES:
        if key.endswith(suffix) and _PLACE_END.search(key[: -len(suffix)]):
            key = key[: -len(suffix)]
            break
    return key or None


def administrative_level(region: str | None) -> str | None:
    """province / prefecture / county / township from the region's last unit; None when unknown."""
    if not region:
        return None
    if _SPECIAL_ZONE.search(region):
        return None  # 实验区, 新区, 开发区: their rank varies from zone to zone
    if region in _MUNICIPALITIES:
        return "province"  # the four municipalities rank as provinces
    for pattern, level in _LEVELS:
        if pattern.search(region):
            return level
    return None


@dataclass(frozen=True)
class Candidate:
    """A document of one agency and year, with what the re-issue rule compares."""

    sha256: str
    failing_identities: int
    cells_found: int
    mtime: float | None
    size: int


def choose_counted(candidates: Sequence[Candidate]) -> tuple[str, str]:
    """The document that counts among re-issues (same agency and year, different bytes), and why.

    The rule, in order: fewer failing identity checks (a re-issue usually corrects the tables);
    more statutory cells found (the fuller document); the later file date (archive member or file
    modification time, when known); the larger file; then the sha256, so the choice never depends
    on the order the files were met.
    """
    ranked = sorted(
        candidates,
        key=lambda c: (c.failing_identities, -c.cells_found, -(c.mtime or 0.0), -c.size, c.sha256),
    )
    best, runner_up = ranked[0], ranked[1] if len(ranked) > 1 else None
    if runner_up is None:
        return best.sha256, "the only document"
    if best.failing_identities != runner_up.failing_identities:
        why = f"fewest failing identity checks ({best.failing_identities} vs {runner_up.failing_identities})"
    elif best.cells_found != runner_up.cells_found:
        why = f"most statutory cells found ({best.cells_found} vs {runner_up.cells_found})"
    elif (best.mtime or 0.0) != (runner_up.mtime or 0.0):
        why = "the later file date"
    elif best.size != runner_up.size:
        why = f"the larger file ({best.size} vs {runner_up.size} bytes)"
    else:
        why = "tie broken by sha256"
    return best.sha256, why
