"""China's administrative divisions (provinces, prefectures, counties) from the ``cpca`` package's table.

``cpca`` (MIT, pinned 0.5.5) ships ``resources/adcodes.csv``: 12-digit codes and names of every
province, prefecture and county. Importing ``cpca`` itself would build an Aho-Corasick matcher over
pandas (seconds, and it needs ``pkg_resources``), so only its CSV is read here, with the stdlib,
once, on first use. Without the package no region is given: the caller says null rather than guess.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Suffixes a name may drop in running text (平潭综合实验区 → 平潭县); longest first.
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "省",
    "市",
    "县",
    "区",
    "旗",
    "盟",
)
# Below the county: a street or town, named only when an agency body follows it.
_STREET = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:街道|镇|乡)(?=办事处|人民政府|党工委|党委|社区|$)")


@dataclass(frozen=True)
class Division:
    code: str  # 12 digits: province 2, prefecture 2, county 2, then zeros
    name: str

    @property
    def level(self) -> int:
        """0 province, 1 prefecture, 2 county."""
        if self.code[2:] == "0" * 10:
            return 0
        return 1 if self.code[4:] == "0" * 8 else 2

    def within(self, other: Division) -> bool:
        keep = 2 * (other.level + 1)
        return self.level > other.level and self.code[:keep] == other.code[:keep]


@dataclass(frozen=True)
class _Table:
    by_name: dict[str, tuple[Division, ...]]
    by_short: dict[str, tuple[Division, ...]]
    by_code: dict[str, Division]
    longest: int


def _csv_path() -> Path | None:
    # find_spec locates the package without running its __init__ (which loads pandas)
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "resources" / "adcodes.csv"
        if path.is_file():
            return path
    return None


@cache
def _table() -> _Table | None:
    path = _csv_path()
    if path is None:
        return None
    by_name: dict[str, list[Division]] = {}
    by_short: dict[str, list[Division]] = {}
    by_code: dict[str, Division] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            name, code = rec["name"].strip(), rec["adcode"].strip()
            # 市辖区 / 县 are placeholder rows of municipalities, not places
            if len(name) < 2 or name == "市辖区" or len(code) != 12:
                continue
            d = Division(code, name)
            by_code[code] = d
            by_name.setdefault(name, []).append(d)
            short = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s)), name)
            if len(short) >= 2 and short != name:
                by_short.setdefault(short, []).append(d)
    return _Table(
        {k: tuple(v) for k, v in by_name.items()},
        {k: tuple(v) for k, v in by_short.items()},
        by_code,
        max(map(len, by_name), default=0),
    )


def available() -> bool:
    return _table() is not None


def _parents(d: Division, table: _Table) -> list[Division]:
    """The prefecture and province a division lies in (those the table has)."""
    codes = [d.code[:4] + "0" * 8, d.code[:2] + "0" * 10][: d.level]
    return [table.by_code[c] for c in codes if c in table.by_code and c != d.code]


def _chain(name: str, table: _Table) -> tuple[list[tuple[str, tuple[Division, ...]]], int]:
    """Division names the string opens with, each inside the one before: [(name, candidates)] and
    the characters consumed. 淮安市洪泽区人民政府 → [(淮安市, …), (洪泽区, …)], 6."""
    out: list[tuple[str, tuple[Division, ...]]] = []
    i = 0
    while i < len(name):
        found: tuple[str, tuple[Division, ...]] | None = None
        for n in range(min(table.longest, len(name) - i), 1, -1):
            cands = table.by_name.get(name[i : i + n], ())
            if out:
                cands = tuple(c for c in cands if any(c.within(p) for p in out[-1][1]))
            if cands:
                found = (name[i : i + n], cands)
                break
        if found is None:
            break
        out.append(found)
        i += len(found[0])
    return out, i


def region_of(agency: str) -> str | None:
    """The administrative area an agency name opens with, as the name writes it; None when the name
    opens with no known division or only an ambiguous short form.

    淮安市洪泽区人民政府 → 淮安市洪泽区; 南京市玄武区玄武门街道办事处 → 南京市玄武区玄武门街道;
    平潭综合实验区地方税务局 → 平潭县 (平潭 is the short form of one county only); 市生态环境局 → None.
    """
    table = _table()
    if table is None or not agency:
        return None
    chain, used = _chain(agency, table)
    if not chain:
        # a short form at the start (平潭综合实验区), trusted only when it names one division
        for n in range(min(8, len(agency)), 1, -1):
            cands = table.by_short.get(agency[:n], ())
            if len(cands) == 1 and agency[:n] not in table.by_name:
                return cands[0].name
        return None
    region = "".join(n for n, _ in chain)
    street = _STREET.match(agency, used)
    if street and chain[-1][1][0].level == 2:
        region += street.group(0)
    return region


def fuller_region(region: str, texts: list[str]) -> str | None:
    """The region with the prefecture (or province) the text writes in front of it (洪泽区 with
    "淮安市洪泽区" in the text → 淮安市洪泽区), only when the table says it lies there."""
    table = _table()
    if table is None:
        return None
    chain, _ = _chain(region, table)
    if not chain:
        return None
    _, first = chain[0]
    for parent in {p for d in first for p in _parents(d, table)}:
        if any(parent.name + region in t for t in texts):
            return parent.name + region
    return None
